"""The UI in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
which ``make test`` installs) driven by Selenium against the app served by uvicorn.

Every page loads with no JavaScript console error, tables list the workspace's objects,
charts render, a catalog search filters and a missing object gives the 404 page. Each page's
screenshot is saved under ``tests/artifacts/ui/``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


@pytest.fixture(scope="module")
def base_url(ui_workspace):
    """The UI served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from eo_ray.ui import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(token=None), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start the UI")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """Headless Chromium with a fresh profile, logging the browser console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(`make test` does)."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield browser
    browser.quit()


def _open(driver, url: str, shot: str | None = None, charts: int = 0) -> list[dict]:
    """Load ``url``, wait for the page and ``charts`` plotly charts; return console errors."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    if charts:
        wait.until(lambda d: len(d.find_elements("css selector", "div.chart .main-svg")) >= charts)
    if shot:
        driver.save_screenshot(str(ARTIFACTS / f"{shot}.png"))
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _pages(ws: dict) -> list[tuple[str, str, int]]:
    item = quote(ws["items"][0])
    return [
        ("/", "overview", 0),
        ("/catalogs", "catalogs", 0),
        (f"/catalogs/{ws['catalog']}", "catalog", 0),
        (f"/catalogs/{ws['catalog']}/items/{item}", "catalog-item", 0),
        ("/maps", "maps", 0),
        ("/featurestore", "featurestore", 0),
        ("/featurestore?q=ndvi", "featurestore-search", 0),
        (f"/featurestore/{ws['group']}", "feature-group", 0),
        (f"/featurestore/views/{ws['view']}", "feature-view", 0),
        ("/experiments", "experiments", 0),
        (f"/experiments/{ws['experiment']}", "experiment-hpo", 2),
        (f"/experiments/{ws['ablation']}", "experiment-ablation", 1),
        ("/models", "models", 0),
        (f"/models/{ws['model']}", "model", 1),
        ("/deployments", "deployments", 0),
        (f"/deployments/{ws['deployment']}", "deployment", 1),
        ("/pipelines", "pipelines", 0),
        (f"/pipelines/{ws['pipeline_run']}", "pipeline-run", 0),
    ]


def test_every_page_loads_without_console_errors(driver, base_url, ui_workspace):
    failures = {}
    for path, shot, charts in _pages(ui_workspace):
        errors = _open(driver, base_url + path, shot, charts)
        if errors:
            failures[path] = errors
        assert "Traceback" not in driver.page_source
        assert driver.find_element("css selector", "h1").text
    assert not failures, failures


def test_tables_list_the_workspace_objects(driver, base_url, ui_workspace):
    def cells(table_id: str, column: int = 0) -> list[str]:
        rows = driver.find_elements("css selector", f"#{table_id} tbody tr")
        return [r.find_elements("css selector", "td")[column].text for r in rows]

    _open(driver, f"{base_url}/models")
    assert ui_workspace["model"] in cells("models-table")
    _open(driver, f"{base_url}/experiments")
    assert ui_workspace["experiment"] in cells("experiments-table")
    _open(driver, f"{base_url}/featurestore")
    assert ui_workspace["group"] in cells("groups-table")
    assert ui_workspace["view"] in cells("views-table")
    _open(driver, f"{base_url}/experiments/{ui_workspace['experiment']}", charts=2)
    assert len(cells("trials-table")) == 8
    _open(driver, f"{base_url}/pipelines/{ui_workspace['pipeline_run']}")
    assert sorted(cells("steps-table")) == ["labels", "scan", "train"]
    assert len(driver.find_elements("css selector", "#dag g.node")) == 3


def test_charts_render_and_tables_sort(driver, base_url, ui_workspace):
    _open(driver, f"{base_url}/experiments/{ui_workspace['experiment']}", charts=2)
    plot = driver.find_element("css selector", "#trials-chart")
    assert "js-plotly-plot" in plot.get_attribute("class")
    assert plot.find_elements("css selector", "g.trace.scatter path.js-line")
    values_header = driver.find_elements("css selector", "#trials-table thead th")[2]
    values_header.click()
    values = [
        float(r.find_elements("css selector", "td")[2].text)
        for r in driver.find_elements("css selector", "#trials-table tbody tr")
    ]
    assert values == sorted(values)
    values_header.click()
    first = driver.find_element("css selector", "#trials-table tbody tr td:nth-child(3)").text
    assert float(first) == max(values)


def test_catalog_search_filters(driver, base_url, ui_workspace):
    name, items = ui_workspace["catalog"], ui_workspace["items"]
    _open(driver, f"{base_url}/catalogs/{name}")
    count = driver.find_element("id", "match-count").text
    assert count.startswith(f"{len(items)} of {len(items)}")
    assert driver.find_elements("css selector", "#footprints rect.footprint")
    form = driver.find_element("id", "catalog-search")
    form.find_element("name", "bbox").send_keys("170,80,171,81")
    form.find_element("css selector", "button[type=submit]").click()
    _wait_for_text(driver, "match-count", f"0 of {len(items)}")
    driver.save_screenshot(str(ARTIFACTS / "catalog-search-empty.png"))
    assert not driver.find_elements("css selector", "#items-table")
    form = driver.find_element("id", "catalog-search")
    form.find_element("name", "bbox").clear()
    form.find_element("name", "text").send_keys(items[0])
    form.find_element("css selector", "button[type=submit]").click()
    _wait_for_text(driver, "match-count", f"1 of {len(items)}")


def _wait_for_text(driver, element_id: str, prefix: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d) -> bool:
        try:
            return d.find_element("id", element_id).text.startswith(prefix)
        except WebDriverException as exc:
            # Chromedriver reports the same race as a stale reference this way at times
            if "does not belong to the document" in str(exc):
                return False
            raise

    # the page re-renders the element while we read it: a stale reference means "look again"
    WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(shown)


def test_a_missing_object_is_a_404_page(driver, base_url):
    errors = _open(driver, f"{base_url}/models/no-such-model", "missing-model")
    assert any("404" in e["message"] for e in errors)  # the console is read: it has the 404
    assert driver.find_element("css selector", "h1").text == "404 · Not found"
    assert "no-such-model" in driver.find_element("css selector", "p.error-message").text
    status = driver.execute_script(
        "return fetch(arguments[0]).then(function (r) { return r.status; });",
        f"{base_url}/api/experiments/no-such-run",
    )
    assert status == 404
