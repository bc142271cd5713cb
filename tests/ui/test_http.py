"""Every page and JSON route of the UI over a real workspace, through FastAPI's TestClient."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from eo_ray.ui import create_app


@pytest.fixture(scope="module")
def client(ui_workspace) -> TestClient:
    return TestClient(create_app(token=None))


def _page(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response.text


def test_overview_counts_every_stage(client, ui_workspace):
    data = client.get("/api/overview").json()
    sections = {s["key"]: s for s in data["sections"]}
    assert set(sections) == {
        "catalogs",
        "maps",
        "featurestore",
        "experiments",
        "models",
        "deployments",
        "pipelines",
    }
    assert sections["catalogs"]["count"] >= 1
    assert sections["featurestore"]["count"] >= 1
    assert sections["featurestore"]["views"] >= 1
    assert sections["experiments"]["kinds"].get("hpo", 0) >= 1
    assert sections["models"]["count"] >= 1
    assert sections["pipelines"]["count"] >= 1
    assert sections["maps"]["count"] >= 1
    html = _page(client, "/")
    for link in ("/catalogs", "/featurestore", "/experiments", "/models", "/pipelines"):
        assert f'href="{link}"' in html


def test_catalog_lists_and_searches_items(client, ui_workspace):
    name = ui_workspace["catalog"]
    listed = client.get("/api/catalogs").json()["catalogs"]
    assert {"name": name, "items": len(ui_workspace["items"])} in listed
    data = client.get(f"/api/catalogs/{name}").json()
    assert data["matching"] == data["total"] == len(ui_workspace["items"])
    west, south, east, north = data["footprints"]["extent"]
    assert west < east
    assert south < north
    html = _page(client, f"/catalogs/{name}")
    assert 'id="footprints"' in html
    assert ui_workspace["items"][0] in html
    far_away = client.get(f"/api/catalogs/{name}", params={"bbox": "170,80,171,81"}).json()
    assert far_away["matching"] == 0
    assert far_away["items"] == []
    nothing = client.get(f"/api/catalogs/{name}", params={"text": "sentinel-9-nowhere"}).json()
    assert nothing["matching"] == 0
    bad = client.get(f"/api/catalogs/{name}", params={"bbox": "1,2,3"})
    assert bad.status_code == 400
    assert "bbox" in bad.json()["detail"]


def test_catalog_item_has_stac_and_a_quicklook(client, ui_workspace):
    name, item = ui_workspace["catalog"], ui_workspace["items"][0]
    data = client.get(f"/api/catalogs/{name}/items/{quote(item)}").json()
    assert data["stac"]["type"] == "Feature"
    assert data["stac"]["id"] == item
    html = _page(client, f"/catalogs/{name}/items/{quote(item)}")
    assert "quicklook.png" in html
    assert "stac_version" in html
    png = client.get(f"/catalogs/{name}/items/{quote(item)}/quicklook.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get(f"/catalogs/{name}/items/no-such-item").status_code == 404


def test_featurestore_pages(client, ui_workspace):
    group, view = ui_workspace["group"], ui_workspace["view"]
    index = client.get("/api/featurestore").json()
    assert group in {g["name"] for g in index["feature_groups"]}
    assert view in {v["name"] for v in index["feature_views"]}
    hits = client.get("/api/featurestore", params={"q": "ndvi"}).json()["hits"]
    assert any(h["name"] in (group, view, "ndvi") for h in hits)
    data = client.get(f"/api/featurestore/{group}").json()
    assert [f["name"] for f in data["schema"]][:3] == ["pid", "red", "nir"]
    assert data["commits"]
    assert data["commits"][0]["rows_inserted"] == 200
    assert data["statistics"]["features"]["ndvi"]["histogram"]["counts"]
    assert data["validations"]
    assert data["validations"][0]["success"] is True
    assert data["views"][0]["name"] == view
    html = _page(client, f"/featurestore/{group}")
    assert 'class="histogram"' in html
    assert "expect_column_values_to_be_between" in html
    view_data = client.get(f"/api/featurestore/views/{view}").json()
    assert view_data["groups"] == [{"group": group, "version": 1}]
    assert view_data["training_datasets"][0]["row_counts"] == {"train": 150, "test": 50}
    _page(client, f"/featurestore/views/{view}")
    assert client.get(f"/featurestore/{group}", params={"commit": 99}).status_code == 404


def test_experiment_pages(client, ui_workspace):
    exp = ui_workspace["experiment"]
    listed = client.get("/api/experiments").json()["experiments"]
    assert exp in {e["id"] for e in listed}
    assert client.get("/api/experiments", params={"kind": "hpo"}).json()["kind"] == "hpo"
    data = client.get(f"/api/experiments/{exp}").json()
    assert data["view"] == "hpo"
    assert len(data["trials"]) == 8
    assert data["rerun_command"] == f"eo-ray experiments rerun {exp}"
    assert len(data["series"]["curves"]) == 8
    best = data["series"]["best"]["value"]
    assert best == sorted(best)  # best so far of a max search never decreases
    stopped = [t for t in data["trials"] if t["status"] == "stopped"]
    assert len(stopped) == len(data["series"]["stopped"]["time"])
    html = _page(client, f"/experiments/{exp}")
    assert 'id="trials-chart"' in html
    assert 'id="best-chart"' in html
    assert "trials-table" in html


def test_ablation_page_ranks_components(client, ui_workspace):
    data = client.get(f"/api/experiments/{ui_workspace['ablation']}").json()
    assert data["view"] == "ablation"
    components = [r["component"] for r in data["ranking"]]
    assert components[0] == "base"
    assert sorted(components[1:]) == ["fare", "pclass", "sex"]
    assert len(data["trials"]) == 8  # (base + 3 components) x 2 repeats
    html = _page(client, f"/experiments/{ui_workspace['ablation']}")
    assert 'id="ranking-chart"' in html
    assert "ranking-table" in html


def test_model_pages(client, ui_workspace):
    name = ui_workspace["model"]
    assert name in {m["name"] for m in client.get("/api/models").json()["models"]}
    data = client.get(f"/api/models/{name}").json()
    assert [v["version"] for v in data["versions"]] == [2, 1]
    latest = data["latest"]
    assert latest["signature"] == {"shape": [3], "dtype": "float64"}
    assert latest["experiment"] == ui_workspace["experiment"]
    assert latest["training_dataset"]["feature_view"] == ui_workspace["view"]
    assert [d["name"] for d in data["deployments"]] == [ui_workspace["deployment"]]
    html = _page(client, f"/models/{name}")
    assert f'href="/experiments/{ui_workspace["experiment"]}"' in html
    assert 'id="metrics-chart"' in html


def test_deployment_pages_page_the_request_log(client, ui_workspace):
    name = ui_workspace["deployment"]
    assert name in {d["name"] for d in client.get("/api/deployments").json()["deployments"]}
    first = client.get(f"/api/deployments/{name}").json()
    assert first["summary"]["requests"] == ui_workspace["requests"]
    assert first["pages"] == 5
    assert len(first["requests"]) == 50
    assert first["requests"][0]["request_id"] == "req-00239"  # newest first
    last = client.get(f"/api/deployments/{name}", params={"page": 5}).json()
    assert [r["request_id"] for r in last["requests"]][-1] == "req-00000"
    errors = client.get(f"/api/deployments/{name}", params={"status": 400}).json()
    assert errors["matching"] == 15
    assert {r["status"] for r in errors["requests"]} == {400}
    assert sum(first["latency"]["requests"]) == ui_workspace["requests"]
    (report,) = first["drift_reports"]
    assert report["drifted"] is True
    assert len(report["columns"]) == ui_workspace["drift_columns"]
    assert first["alerts"][0]["deployment"] == name
    html = _page(client, f"/deployments/{name}")
    assert 'id="drift-table"' in html
    assert 'id="latency-chart"' in html
    assert "req-00239" in html
    _page(client, "/deployments")


def test_pipeline_pages(client, ui_workspace):
    run = ui_workspace["pipeline_run"]
    assert run in {r["run_id"] for r in client.get("/api/pipelines").json()["runs"]}
    data = client.get(f"/api/pipelines/{run}").json()
    steps = {s["name"]: s for s in data["steps"]}
    assert set(steps) == {"scan", "labels", "train"}
    assert all(s["status"] == "succeeded" for s in steps.values())
    assert "training on 5 inputs" in steps["train"]["attempts"][0]["log"]
    nodes = {n["name"]: n for n in data["dag"]["nodes"]}
    assert nodes["train"]["x"] > nodes["scan"]["x"] == nodes["labels"]["x"]
    assert len(data["dag"]["edges"]) == 2
    html = _page(client, f"/pipelines/{run}")
    assert 'id="dag"' in html
    assert "training on 5 inputs" in html


def test_maps_page_shows_preview_legend_and_lineage(client, ui_workspace):
    maps = {m["map_id"]: m for m in client.get("/api/maps").json()["maps"]}
    record = maps[ui_workspace["map"]]
    assert record["model"] == "ui-forest"
    assert [e["class"] for e in record["legend"]] == ["water", "sparse", "vegetation"]
    assert record["legend"][0]["color"] == "#2166ac"
    assert record["sources"]
    html = _page(client, "/maps")
    assert f"/maps/{ui_workspace['map']}/preview.png" in html
    assert 'href="/models/ui-forest"' in html
    assert "background: #1a9641" in html
    png = client.get(f"/maps/{ui_workspace['map']}/preview.png")
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")
    assert client.get("/maps/no-such-map/preview.png").status_code == 404


def test_maps_page_without_maps_says_so(small_workspace):
    client = TestClient(create_app(token=None))
    assert client.get("/api/maps").json() == {"maps": []}
    assert "No maps yet" in _page(client, "/maps")


def test_static_assets_come_from_the_app(client):
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert len(plotly.content) > 1_000_000
    assert client.get("/static/app.js").status_code == 200
    html = _page(client, "/")
    assert "http://" not in html.split("<main>")[0]
    assert "https://" not in html.split("<main>")[0]
