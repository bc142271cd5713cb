"""Search and discovery: ranked matches over names, descriptions, tags and feature names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"[a-z0-9]+")
# How much a match in each field counts.
WEIGHTS = {"name": 8.0, "feature": 4.0, "tag": 3.0, "keyword": 3.0, "description": 1.5}


@dataclass
class SearchHit:
    """One matching feature group, view or feature, with why it matched."""

    kind: str  # "feature_group", "feature_view" or "feature"
    name: str
    version: int
    score: float
    group: str | None = None  # for features: the group they belong to
    matched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return dict(self.__dict__)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, splitting snake_case and camelCase."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text))
    return _TOKEN.findall(text.lower())


def _score(query: list[str], fields: dict[str, list[str]]) -> tuple[float, list[str]]:
    """Sum over query terms of the best weighted match (exact > prefix > substring)."""
    total, matched = 0.0, []
    for term in query:
        best, where = 0.0, None
        for kind, texts in fields.items():
            for text in texts:
                for tok in tokens(text):
                    if tok == term:
                        s = 1.0
                    elif tok.startswith(term) or (term.startswith(tok) and len(tok) >= 4):
                        s = 0.6
                    elif len(term) >= 4 and term in tok:
                        s = 0.3
                    else:
                        continue
                    s *= WEIGHTS[kind]
                    if s > best:
                        best, where = s, f"{kind}:{text}"
        if best == 0:
            return 0.0, []  # every term must match somewhere
        total += best
        matched.append(where)
    return total, matched


def search(text: str, groups: list[dict[str, Any]], views: list[dict[str, Any]]) -> list[SearchHit]:
    """Rank ``groups`` and ``views`` (their stored documents) and their features by ``text``."""
    query = tokens(text)
    if not query:
        return []
    hits: list[SearchHit] = []
    for doc in groups:
        tags = [f"{k} {v}" for k, v in doc.get("tags", {}).items()]
        features = doc.get("schema") or []
        fields = {
            "name": [doc["name"]],
            "description": [doc.get("description", "")],
            "tag": tags,
            "keyword": list(doc.get("keywords", [])),
            "feature": [f["name"] for f in features],
        }
        score, matched = _score(query, fields)
        if score:
            hits.append(
                SearchHit("feature_group", doc["name"], doc["version"], score, None, matched)
            )
        for feat in features:
            fscore, fmatched = _score(
                query, {"name": [feat["name"]], "description": [feat.get("description", "")]}
            )
            if fscore:
                hits.append(
                    SearchHit(
                        "feature", feat["name"], doc["version"], fscore * 0.9, doc["name"], fmatched
                    )
                )
    for doc in views:
        q = doc.get("query", {})
        feats = list(q.get("features", [])) + [f for j in q.get("joins", []) for f in j["features"]]
        fields = {
            "name": [doc["name"]],
            "description": [doc.get("description", "")],
            "tag": [f"{k} {v}" for k, v in doc.get("tags", {}).items()],
            "keyword": list(doc.get("labels", [])),
            "feature": feats,
        }
        score, matched = _score(query, fields)
        if score:
            hits.append(
                SearchHit("feature_view", doc["name"], doc["version"], score, None, matched)
            )
    hits.sort(key=lambda h: (-h.score, h.kind, h.name, -h.version))
    return hits
