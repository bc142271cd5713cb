"""The feature store facade: create, find, list and delete groups and views; search."""

from __future__ import annotations

from typing import Any

from eo_ray._params import invalid, renamed_keywords
from eo_ray.featurestore._metadata import MetadataStore
from eo_ray.featurestore.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from eo_ray.featurestore.expectations import ExpectationSuite
from eo_ray.featurestore.feature_group import FeatureGroup, new_group_doc
from eo_ray.featurestore.feature_view import FeatureView
from eo_ray.featurestore.query import Query
from eo_ray.featurestore.schema import Feature
from eo_ray.featurestore.search import SearchHit, search
from eo_ray.storage import Workspace, as_workspace, validate_name


class FeatureStore:
    """The feature store of one workspace (``eo.feature_store()``)."""

    def __init__(self, ws: Workspace | str | None = None) -> None:
        self.ws = as_workspace(ws)
        self._meta = MetadataStore(self.ws)

    def __repr__(self) -> str:
        return f"FeatureStore({self.ws.root!r})"

    # -- feature groups ---------------------------------------------------------------------
    def create_feature_group(
        self,
        name: str,
        version: int | None = None,
        primary_key: list[str] | str | None = None,
        event_time: str | None = None,
        partition_key: list[str] | None = None,
        online: bool = False,
        description: str = "",
        tags: dict[str, Any] | None = None,
        expectations: ExpectationSuite | dict | list | None = None,
        statistics: bool = True,
        features: list[Feature] | None = None,
        feature_descriptions: dict[str, str] | None = None,
        keywords: list[str] | None = None,
    ) -> FeatureGroup:
        """Create a feature group version (default: one more than the latest).

        ``features`` fixes the schema up front (else the first insert records it);
        ``feature_descriptions`` and ``keywords`` are found by :meth:`search`.
        """
        validate_name(name, "feature group")
        if isinstance(primary_key, str):
            primary_key = [primary_key]
        existing = self._meta.versions("groups", name)
        if version is None:
            version = max(existing, default=0) + 1
        elif not isinstance(version, int) or version < 1:
            expected = "a positive int or None"
            raise invalid(
                InvalidParameterError, "version", "create_feature_group", expected, version
            )
        elif version in existing:
            raise AlreadyExistsError(
                f"Feature group {name!r} version {version} exists; get it with "
                "get_feature_group() or create another version."
            )
        suite = ExpectationSuite.coerce(expectations, f"{name}_v{version}")
        doc = new_group_doc(
            name,
            version,
            list(primary_key or []),
            event_time,
            list(partition_key or []),
            online,
            description,
            tags or {},
            statistics,
            features,
            feature_descriptions,
        )
        doc["keywords"] = [str(k) for k in keywords or []]
        group = FeatureGroup(self._meta, doc)
        if suite is not None:
            group.save_expectation_suite(suite)
        # last: a version is visible once its document exists
        self._meta.write(self._meta.group_uri(name, version, "group.json"), doc)
        return group

    def get_feature_group(self, name: str, version: int | None = None) -> FeatureGroup:
        """A feature group (default: its latest version)."""
        version = self._meta.resolve("groups", name, version)
        return FeatureGroup(
            self._meta, self._meta.read(self._meta.group_uri(name, version, "group.json"))
        )

    def get_or_create_feature_group(
        self, name: str, version: int | None = None, **kwargs: Any
    ) -> FeatureGroup:
        """The group if that version exists, else a new one created with ``kwargs``."""
        try:
            return self.get_feature_group(name, version)
        except NotFoundError:
            return self.create_feature_group(name, version=version, **kwargs)

    def list_feature_groups(self) -> list[FeatureGroup]:
        """Every version of every feature group."""
        return [
            self.get_feature_group(name, v)
            for name in self._meta.names("groups")
            for v in self._meta.versions("groups", name)
        ]

    def delete_feature_group(self, name: str, version: int | None = None) -> None:
        """Delete one version (or, with ``version=None``, every version) of a group."""
        versions = [version] if version is not None else self._meta.versions("groups", name)
        if not versions:
            raise NotFoundError(f"No feature group named {name!r}.")
        for v in versions:
            self.get_feature_group(name, v).delete()

    # -- feature views ----------------------------------------------------------------------
    def create_feature_view(
        self,
        name: str,
        query: Query,
        labels: list[str] | None = None,
        transforms: dict[str, str] | None = None,
        version: int | None = None,
        description: str = "",
        tags: dict[str, Any] | None = None,
    ) -> FeatureView:
        """Define a view: ``query``'s features, with ``labels`` held apart for training."""
        validate_name(name, "feature view")
        if not isinstance(query, Query):
            expected = "a query built from a feature group, e.g. fg.select_all()"
            raise invalid(
                InvalidParameterError,
                "query",
                "create_feature_view",
                expected,
                type(query).__name__,
            )
        labels = list(labels or [])
        columns = query.plan().columns  # plans it: unknown features and bad joins fail here
        missing = [c for c in [*labels, *(transforms or {})] if c not in columns]
        if missing:
            raise InvalidParameterError(
                f"Labels/transforms {missing} are not columns of the view's query {columns}."
            )
        existing = self._meta.versions("views", name)
        version = max(existing, default=0) + 1 if version is None else version
        if version in existing:
            raise AlreadyExistsError(f"Feature view {name!r} version {version} exists.")
        doc = {
            "name": name,
            "version": version,
            "query": query.to_dict(),
            "labels": labels,
            "transforms": dict(transforms or {}),
            "description": description,
            "tags": dict(tags or {}),
        }
        self._meta.write(self._meta.view_uri(name, version, "view.json"), doc)
        return FeatureView(self._meta, doc, self.get_feature_group)

    def get_feature_view(self, name: str, version: int | None = None) -> FeatureView:
        """A feature view (default: its latest version)."""
        version = self._meta.resolve("views", name, version)
        doc = self._meta.read(self._meta.view_uri(name, version, "view.json"))
        return FeatureView(self._meta, doc, self.get_feature_group)

    def get_or_create_feature_view(
        self, name: str, query: Query, labels=None, **kwargs: Any
    ) -> FeatureView:
        """The latest version of the view, or a new one."""
        try:
            return self.get_feature_view(name)
        except NotFoundError:
            return self.create_feature_view(name, query, labels, **kwargs)

    def list_feature_views(self) -> list[FeatureView]:
        """Every version of every feature view."""
        return [
            self.get_feature_view(name, v)
            for name in self._meta.names("views")
            for v in self._meta.versions("views", name)
        ]

    # -- discovery --------------------------------------------------------------------------
    def search(self, text: str) -> list[SearchHit]:
        """Groups, views and features matching ``text``, best first."""
        groups = [g.to_dict() for g in self.list_feature_groups()]
        views = [v.to_dict() for v in self.list_feature_views()]
        return search(text, groups, views)

    def views_using(self, group: FeatureGroup) -> list[FeatureView]:
        """Provenance: the feature views that read ``group`` (this version)."""
        out = []
        for view in self.list_feature_views():
            q = view.to_dict()["query"]
            refs = [(q["group"], q["version"])] + [(j["group"], j["version"]) for j in q["joins"]]
            if (group.name, group.version) in refs:
                out.append(view)
        return out


@renamed_keywords(home="ws")
def feature_store(ws: Workspace | str | None = None) -> FeatureStore:
    """The feature store of the workspace ``ws`` (default: the current workspace)."""
    return FeatureStore(ws)


def get(
    name: str, version: int | None = None, *, ws: Workspace | str | None = None
) -> FeatureGroup:
    """Feature group ``name`` (its latest version when ``version`` is None):
    ``eo.featurestore.get``, like every stage's ``get``."""
    return FeatureStore(ws).get_feature_group(name, version)


def groups(*, ws: Workspace | str | None = None) -> list[FeatureGroup]:
    """Every version of every feature group of the workspace (``eo.featurestore.list``,
    like every stage's ``list``)."""
    return FeatureStore(ws).list_feature_groups()
