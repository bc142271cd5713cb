"""``eo-ray fs``: list, show, history, stats, search and validate feature groups and views."""

from __future__ import annotations

from typing import Annotated

import typer

from eo_ray.console import JsonOpt, console, emit_json, stage_app

app = stage_app("Feature store: feature groups, feature views, statistics, validation, search.")

NameArg = Annotated[str, typer.Argument(help="Feature group name.")]
VersionOpt = Annotated[
    int | None, typer.Option("--version", "-v", help="Version (default: latest).")
]


def _store():
    from eo_ray.featurestore import feature_store

    return feature_store()


def _table(title: str, columns: list[str], rows: list[list]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Feature groups and feature views of the workspace."""
    fs = _store()
    groups = [
        {
            "name": g.name,
            "version": g.version,
            "primary_key": g.primary_key,
            "event_time": g.event_time,
            "online": g.online,
            "features": len(g.features),
            "table_version": g.table_version,
            "description": g.description,
        }
        for g in fs.list_feature_groups()
    ]
    views = [
        {"name": v.name, "version": v.version, "labels": v.labels, "description": v.description}
        for v in fs.list_feature_views()
    ]
    if as_json:
        emit_json({"feature_groups": groups, "feature_views": views})
        return
    _table(
        "feature groups",
        ["name", "version", "primary key", "event time", "online", "features", "commit"],
        [
            [
                g["name"],
                g["version"],
                ",".join(g["primary_key"]),
                g["event_time"],
                g["online"],
                g["features"],
                g["table_version"],
            ]
            for g in groups
        ],
    )
    _table(
        "feature views",
        ["name", "version", "labels", "description"],
        [[v["name"], v["version"], ",".join(v["labels"]), v["description"]] for v in views],
    )


def _show_view(fs, name: str, version: int | None, as_json: bool) -> None:
    fv = fs.get_feature_view(name, version)
    datasets = []
    for v in fv.training_dataset_versions():
        meta = fv.get_training_dataset(v).meta
        datasets.append(
            {
                "version": v,
                "row_counts": meta["row_counts"],
                "seed": meta["split"]["seed"],
                "group_versions": meta["group_versions"],
            }
        )
    doc = fv.to_dict() | {"features": fv.features, "training_datasets": datasets}
    if as_json:
        emit_json(doc)
        return
    console.print(
        f"[bold]{fv.name}[/bold] v{fv.version}  labels={fv.labels}\n{fv.description}\n"
        f"features: {', '.join(fv.features)}"
    )
    _table(
        "training datasets",
        ["version", "rows per split", "seed", "read from"],
        [
            [
                d["version"],
                d["row_counts"],
                d["seed"],
                ", ".join(
                    f"{g['group']} v{g['version']}@{g['table_version']}"
                    for g in d["group_versions"]
                ),
            ]
            for d in datasets
        ],
    )


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Feature group (or, with --view, view) name.")],
    version: VersionOpt = None,
    view: Annotated[bool, typer.Option("--view", help="Show a feature view.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A group's schema, keys, suite and views; with --view, a view and its training data."""
    fs = _store()
    if view:
        _show_view(fs, name, version, as_json)
        return
    fg = fs.get_feature_group(name, version)
    suite = fg.get_expectation_suite()
    doc = fg.to_dict() | {
        "table_version": fg.table_version,
        "expectation_suite": None if suite is None else suite.to_dict(),
        "used_by_views": [f"{v.name}:{v.version}" for v in fs.views_using(fg)],
    }
    if as_json:
        emit_json(doc)
        return
    console.print(
        f"[bold]{fg.name}[/bold] v{fg.version}  key={fg.primary_key}  event_time={fg.event_time}"
        f"  online={fg.online}  commit={doc['table_version']}\n{fg.description}"
    )
    _table(
        "features",
        ["name", "type", "role", "description"],
        [
            [f.name, f.type, "key" if f.primary else "time" if f.event_time else "", f.description]
            for f in fg.features
        ],
    )
    if suite is not None:
        console.print(
            f"expectations: {len(suite.expectations)} in suite {suite.expectation_suite_name!r}"
        )
    if doc["used_by_views"]:
        console.print("used by views: " + ", ".join(doc["used_by_views"]))


@app.command()
def history(name: NameArg, version: VersionOpt = None, as_json: JsonOpt = False) -> None:
    """Commits of a feature group: version, time, operation, rows."""
    rows = _store().get_feature_group(name, version).history()
    if as_json:
        emit_json(rows)
        return
    cols = ["version", "timestamp", "operation", "rows_inserted", "rows_updated", "rows_deleted"]
    _table(f"history of {name}", cols, [[r[c] for c in cols] for r in rows])


@app.command()
def stats(
    name: NameArg,
    version: VersionOpt = None,
    commit: Annotated[int | None, typer.Option(help="Delta version (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Statistics stored for a commit of a feature group."""
    st = _store().get_feature_group(name, version).statistics(commit)
    if as_json:
        emit_json(st.to_dict())
        return
    cols = ["count", "completeness", "distinct", "min", "max", "mean", "std"]
    rows = []
    for feat, s in sorted(st.features.items()):
        rows.append([feat, *(_fmt(s.get(c)) for c in cols)])
    _table(
        f"statistics of {name} at commit {st.version} ({st.row_count} rows)",
        ["feature", *cols],
        rows,
    )


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else value


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to look for.")], as_json: JsonOpt = False
) -> None:
    """Find feature groups, views and features by name, description, tags and keywords."""
    hits = _store().search(text)
    if as_json:
        emit_json([h.to_dict() for h in hits])
        return
    _table(
        f"search: {text}",
        ["kind", "name", "version", "group", "score", "matched"],
        [
            [h.kind, h.name, h.version, h.group, f"{h.score:.2f}", "; ".join(h.matched)]
            for h in hits
        ],
    )


@app.command()
def validate(
    name: NameArg,
    version: VersionOpt = None,
    save: Annotated[bool, typer.Option(help="Store the report with the group.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a group's expectation suite on its latest data; exit 1 when it fails."""
    report = _store().get_feature_group(name, version).validate(save=save)
    if as_json:
        emit_json(report.to_dict())
    else:
        _table(
            f"validation of {name} at commit {report.version}",
            ["expectation", "column", "success", "unexpected", "observed"],
            [
                [
                    r.expectation.expectation_type,
                    r.expectation.column,
                    r.success,
                    r.unexpected_count,
                    r.observed_value,
                ]
                for r in report.results
            ],
        )
    if not report.success:
        raise typer.Exit(1)
