"""The dashboard in a real browser: Chromium (Debian's, /usr/bin/chromium) driven by Playwright
against uvicorn on 127.0.0.1. Every page draws its charts with data, a filter changes the
numbers, the language switch shows Indonesian labels, drill-down opens the rows. Screenshots go
to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from test_web_data import build_workspace, month_end, next_month, whole_months

from funnelmetrics import catalog
from funnelmetrics.web.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 90_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn serving the app in a thread."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class World(NamedTuple):
    """The web tests' workspace, its users' tokens and its whole months of data (they move
    with today)."""

    db: Path
    tokens: dict[str, str]
    months: list[dt.date]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    db = tmp_path_factory.mktemp("browser") / "funnel.duckdb"
    tokens = build_workspace(db)
    return World(db, tokens, whole_months(db))


@pytest.fixture(scope="module")
def tokens_and_server(world: World) -> Iterator[tuple[dict[str, str], Server]]:
    with Server(create_app(world.db)) as server:
        yield world.tokens, server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(browser: Browser, server: Server, token: str) -> Page:
    """A page signed in through the login form."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/")
    assert "/login" in page.url
    page.fill("input[name=token]", token)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


@pytest.fixture(scope="module")
def admin(browser: Browser, tokens_and_server: tuple[dict[str, str], Server]) -> Iterator[Page]:
    tokens, server = tokens_and_server
    page = login(browser, server, tokens["root"])
    yield page
    page.close()


def wait_for_charts(page: Page) -> int:
    """Wait until every chart of the page is drawn; the number of charts with SVG marks."""
    charts = page.locator("[data-chart]")
    count = charts.count()
    if count:
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chart]')]"
            ".every(el => el.getAttribute('data-drawn') === '1')", timeout=TIMEOUT_MS)
    drawn = page.locator(".js-plotly-plot .main-svg")
    assert drawn.count() >= count
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].filter(el => el.querySelector("
        "'svg.main-svg g.trace, svg.main-svg .heatmaplayer image, svg.main-svg g.point')).length")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


CHART_PAGES = ["/", "/funnel", "/trends", "/cohorts", "/team", "/revenue", "/marketing"]


@pytest.mark.parametrize("path", CHART_PAGES)
def test_page_draws_charts_with_data(admin: Page, tokens_and_server: tuple[dict[str, str],
                                     Server], path: str) -> None:
    server = tokens_and_server[1]
    errors: list[str] = []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.goto(f"{server.url}{path}?lang=en")
    with_data = wait_for_charts(admin)
    assert admin.locator(".js-plotly-plot").count() >= 1
    assert with_data >= 1, f"no chart with data on {path}"
    assert not errors, errors
    shot(admin, "overview" if path == "/" else path.strip("/"))


def tile_value(page: Page, metric: str) -> str:
    return page.locator(f".tile[data-metric={metric}] .tile-value").inner_text()


def test_a_filter_changes_the_numbers(admin: Page, tokens_and_server: tuple[dict[str, str],
                                      Server], world: World) -> None:
    # Two whole months of data in one calendar year (the data moves with today): the month
    # tiles show the second, the year tile both.
    first = next(m for m in world.months if m.month < 12)
    window = f"start={first}&end={month_end(next_month(first))}"
    admin.goto(f"{tokens_and_server[1].url}/?lang=en&grain=month&{window}")
    wait_for_charts(admin)
    before = tile_value(admin, "leads_created")
    admin.select_option("#fdim", "source")
    admin.fill("#fval", "web")
    admin.click("form.filters button[type=submit]")
    admin.wait_for_url("**fdim=source**")
    wait_for_charts(admin)
    after = tile_value(admin, "leads_created")
    assert "source = web" in admin.inner_text("form.filters")
    assert int(after.replace(",", "")) < int(before.replace(",", ""))
    admin.select_option("select[name=grain]", "year")  # the window's year: both months
    admin.check("input[name=include_partial]")  # that year may not be over yet
    admin.click("form.filters button[type=submit]")
    admin.wait_for_url("**grain=year**")
    wait_for_charts(admin)
    assert int(tile_value(admin, "leads_created").replace(",", "")) > int(after.replace(",", ""))
    shot(admin, "overview-filtered")


def test_language_switch(admin: Page, tokens_and_server: tuple[dict[str, str],
                         Server]) -> None:
    admin.goto(f"{tokens_and_server[1].url}/?lang=en")
    admin.click("a[data-lang=id]")
    admin.wait_for_url("**lang=id**")
    wait_for_charts(admin)
    assert admin.locator("nav a[data-nav=overview]").inner_text() == "Ringkasan"
    label = admin.locator(".tile[data-metric=win_rate] .tile-label").inner_text()
    assert label == catalog.get("win_rate").name("id")
    assert admin.evaluate("document.documentElement.lang") == "id"
    shot(admin, "overview-id")
    admin.click("nav a[data-nav=funnel]")  # the choice sticks (cookie)
    assert admin.locator("nav a[data-nav=funnel]").inner_text() == "Corong"
    admin.click("a[data-lang=en]")
    assert admin.locator("nav a[data-nav=funnel]").inner_text() == "Funnel"


def test_drill_down_and_export(admin: Page, tokens_and_server: tuple[dict[str, str],
                               Server]) -> None:
    server = tokens_and_server[1]
    admin.goto(f"{server.url}/trends?metric=win_rate&lang=en")
    wait_for_charts(admin)
    admin.click("section.card >> text=Rows behind this")
    admin.wait_for_url("**/rows/opportunities**")
    assert admin.locator("table.data tbody tr").count() > 0
    with admin.expect_download() as download:
        admin.click("a:has-text('Export rows CSV')")
    assert download.value.suggested_filename == "opportunities.csv"
    shot(admin, "rows")


def test_a_rep_sees_only_their_rows(browser: Browser, tokens_and_server: tuple[
                                    dict[str, str], Server]) -> None:
    tokens, server = tokens_and_server
    page = login(browser, server, tokens["ana"])
    try:
        page.goto(f"{server.url}/rows/leads?limit=200")
        reps = page.eval_on_selector_all(
            "table.data tbody tr", "rows => rows.map(r => r.children[4].textContent)")
        assert reps and set(reps) == {"r1"}
        page.goto(f"{server.url}/team?lang=en")
        wait_for_charts(page)
        assert "ana (rep)" in page.inner_text("header")
    finally:
        page.close()
