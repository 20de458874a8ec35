"""The server's caches: answers served from cache on the event loop (no worker thread, no
connection), rendered pages and JSON kept per user, scope and language, the browser's own CSRF
token in a cached page, gzip built once, and users, teams and settings changed while the server
runs counting from the next request."""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_web_data import Client, build_workspace, month_end, whole_months

import funnelmetrics
from funnelmetrics.web import source as source_module
from funnelmetrics.web.app import create_app
from funnelmetrics.web.bodies import CSRF_MARK, Body, Page
from funnelmetrics.web.users import add_user, remove_user

OVERVIEW = "/api/v1/overview?grain=month"
METRIC = "/api/v1/metric/win_rate?grain=quarter&by=source&where=segment=SMB"


class World:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.tokens = build_workspace(db)
        self.months = whole_months(db)  # the data moves with today: so do the ranges asked
        self.app = create_app(db)
        self.client = Client(self.app)

    def get(self, url: str, who: str | None = "root", client: Client | None = None,
            **kw: Any) -> httpx.Response:
        return (client or self.client).get(url, token=self.tokens[who] if who else None, **kw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("web-cache") / "funnel.duckdb")
    yield w
    w.client.close()


@pytest.fixture
def fresh(world: World) -> Iterator[Client]:
    """A client of its own (its own cookies: a browser of its own)."""
    client = Client(world.app)
    yield client
    client.close()


def tile_value(page: str, metric: str) -> str:
    found = re.search(rf'data-metric="{metric}">.*?data-value="([^"]*)"', page, re.S)
    assert found, f"no {metric} tile"
    return found.group(1)


def csrf_in(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "no CSRF field"
    return found.group(1)


# ---- cached answers: on the event loop ------------------------------------------------------
def test_cached_answers_need_no_thread_and_no_connection(world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    urls = [OVERVIEW, METRIC, "/api/v1/me", "/api/v1/funnel", "/?grain=month&lang=en"]
    first = {url: world.get(url) for url in urls}
    assert all(r.status_code == 200 for r in first.values())

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cached answer went to a worker thread")

    def no_connection(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cached answer opened the database")

    monkeypatch.setattr(source_module, "run_in_threadpool", no_thread)
    monkeypatch.setattr(source_module, "_open_read_only", no_connection)
    for url in urls:
        again = world.get(url)
        assert again.status_code == 200
        assert again.content == first[url].content, url


def test_a_miss_still_computes_in_a_worker_thread(world: World,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    hops = []
    real = source_module.run_in_threadpool

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(source_module, "run_in_threadpool", counting)
    url = "/api/v1/metric/leads_created?grain=week&by=segment"
    body = world.get(url).json()
    assert body["metric"] == "leads_created" and body["rows"]
    assert hops, "the uncached metric was computed on the event loop"
    hops.clear()
    assert world.get(url).json() == body
    assert not hops


# ---- users, teams and settings changed while the server runs ---------------------------------
def test_a_removed_users_token_stops_working_at_once(world: World) -> None:
    with funnelmetrics.open(world.db) as ws:
        _, token = add_user(ws, "temp", "rep", rep_id="r3")
    for _ in range(2):  # the second answer comes from the cache
        assert world.client.get("/api/v1/me", token=token).json()["rep_ids"] == ["r3"]
        assert world.client.get(OVERVIEW, token=token).status_code == 200
        assert world.client.get("/?grain=month&lang=en", token=token).status_code == 200
    with funnelmetrics.open(world.db) as ws:
        assert remove_user(ws, "temp")
    assert world.client.get("/api/v1/me", token=token).status_code == 401
    assert world.client.get(OVERVIEW, token=token).status_code == 401
    assert world.client.get("/?grain=month&lang=en", token=token).status_code == 401
    with funnelmetrics.open(world.db) as ws:  # the same name again: a new token, the old dead
        _, new = add_user(ws, "temp", "rep", rep_id="r4")
    assert world.client.get("/api/v1/me", token=token).status_code == 401
    assert world.client.get("/api/v1/me", token=new).json()["rep_ids"] == ["r4"]
    with funnelmetrics.open(world.db) as ws:
        remove_user(ws, "temp")


def test_a_managers_team_counts_from_the_next_request(world: World) -> None:
    assert world.get("/api/v1/me", "east-boss").json()["rep_ids"] == ["r1", "r2"]
    before = world.get(OVERVIEW, "east-boss").json()
    with funnelmetrics.open(world.db) as ws:
        ws.duckdb.execute("UPDATE reps SET team = 'east' WHERE rep_id = 'r3'")
    try:
        assert world.get("/api/v1/me", "east-boss").json()["rep_ids"] == ["r1", "r2", "r3"]
        after = world.get(OVERVIEW, "east-boss").json()
        leads = {t["metric"]: t["value"] for t in after["tiles"]}["leads_created"]
        assert leads > {t["metric"]: t["value"] for t in before["tiles"]}["leads_created"]
    finally:
        with funnelmetrics.open(world.db) as ws:
            ws.duckdb.execute("UPDATE reps SET team = 'west' WHERE rep_id = 'r3'")
    assert world.get("/api/v1/me", "east-boss").json()["rep_ids"] == ["r1", "r2"]


def test_a_settings_change_counts_from_the_next_request(world: World, fresh: Client) -> None:
    toml = world.db.parent / "funnelmetrics.toml"
    saved = toml.read_text() if toml.exists() else None
    assert '<html lang="en">' in world.get("/", client=fresh).text
    toml.write_text('locale = "id"\n' + re.sub(r"(?m)^locale\s*=.*$", "", saved or ""))
    try:
        assert '<html lang="id">' in world.get("/", client=fresh).text
    finally:
        if saved is None:
            toml.unlink()
        else:
            toml.write_text(saved)
    assert '<html lang="en">' in world.get("/", client=fresh).text


# ---- cached pages: per user, scope and language; the browser's own CSRF token -----------------
def test_cached_pages_differ_per_role_scope_and_language(world: World, fresh: Client) -> None:
    pages: dict[tuple[str, str], str] = {}
    for who in ("root", "east-boss", "ana", "budi", "board"):
        for lang in ("en", "id"):
            first = world.get(f"/?grain=month&lang={lang}", who, client=fresh)
            again = world.get(f"/?grain=month&lang={lang}", who, client=fresh)
            assert first.status_code == again.status_code == 200
            assert again.text == first.text  # from the cache, the same
            assert f'<html lang="{lang}">' in first.text
            pages[who, lang] = first.text
    assert len(set(pages.values())) == len(pages)
    for who, role in (("root", "admin"), ("east-boss", "manager"), ("ana", "rep"),
                      ("board", "viewer")):
        assert f"{who} ({role})" in pages[who, "en"]
        others = [n for n in ("root", "east-boss", "ana", "budi", "board") if n != who]
        assert not any(f"{n} (" in pages[who, "en"] for n in others)
    values = {}
    for who in ("root", "east-boss", "ana", "budi"):
        api = {t["metric"]: t for t in world.get(OVERVIEW, who).json()["tiles"]}
        values[who] = tile_value(pages[who, "en"], "leads_created")
        assert float(values[who]) == api["leads_created"]["value"], who
    assert float(values["ana"]) + float(values["budi"]) == float(values["east-boss"])
    assert float(values["east-boss"]) < float(values["root"])
    # a rep's page links to their rows only through the rows endpoint, which stays scoped
    rows = world.get("/api/v1/rows/leads?limit=1000", "ana").json()["rows"]
    assert {r["rep_id"] for r in rows} == {"r1"}


def test_a_cached_page_carries_each_browsers_own_csrf_token(world: World, fresh: Client) -> None:
    other = Client(world.app)
    try:
        a = world.get("/?grain=month&lang=en", client=fresh)
        b = world.get("/?grain=month&lang=en", client=other)
        ta, tb = fresh.cookies["fm_csrf"], other.cookies["fm_csrf"]
        assert ta != tb
        assert csrf_in(a.text) == ta and csrf_in(b.text) == tb
        assert a.text.replace(ta, "") == b.text.replace(tb, "")
        assert CSRF_MARK not in a.text
        again = world.get("/?grain=month&lang=en", client=fresh)
        assert csrf_in(again.text) == ta and "fm_csrf" not in again.headers.get("set-cookie", "")
        other.cookies.set("fm_csrf", 'q"<x>&')  # whatever the cookie holds, escaped
        odd = world.get("/?grain=month&lang=en", client=other)
        assert 'value="q&#34;&lt;x&gt;&amp;"' in odd.text
    finally:
        other.close()


@pytest.mark.parametrize("url", ["/?grain=month&lang=en", OVERVIEW, METRIC])
def test_gzip_is_the_same_answer(world: World, fresh: Client, url: str) -> None:
    world.get(url, client=fresh)  # cached, and the client has its CSRF cookie
    plain = world.get(url, client=fresh, headers={"Accept-Encoding": "identity"})
    packed = world.get(url, client=fresh, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # httpx decompressed it


# ---- the bodies themselves --------------------------------------------------------------------
def test_page_gzip_is_valid_for_any_token() -> None:
    rng = random.Random(7)
    text = "".join(rng.choice("abcdefghij <>&\"'\n") for _ in range(20000))
    for marks in (0, 1, 2, 5):
        cuts = sorted(rng.sample(range(len(text)), marks))
        html = CSRF_MARK.join(text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)],
                                                         strict=True))
        page = Page.of(html)
        for token in ("", "t", "tok" * 1000, "<&>"):
            request: Any = type("R", (), {"headers": {"accept-encoding": "gzip"}})()
            response = page.response(request, token)
            filled = html.replace(CSRF_MARK, str(__import__("markupsafe").escape(token)))
            assert gzip.decompress(response.body) == filled.encode()
    body = Body.of(text.encode())
    assert body.packed is not None and gzip.decompress(body.packed) == text.encode()
    assert Body.of(b"{}").packed is None


@pytest.mark.parametrize("who", ["root", "east-boss", "ana"])
def test_tiles_computed_in_one_batch_are_the_metrics_one_by_one(world: World, who: str) -> None:
    start, end = world.months[0], month_end(world.months[11])  # twelve months of data
    body = world.get(f"/api/v1/overview?grain=month&start={start}&end={end}&lang=id",
                     who).json()
    checked = 0
    for tile in body["tiles"]:
        if not tile["available"] or tile["metric"] == "stage_conversion_rate":
            continue  # (a tile with parameters of its own)
        alone = world.get(f"/api/v1/metric/{tile['metric']}?grain=month&start={body['start']}"
                          f"&end={body['end']}", who).json()["rows"]
        got = [p["value"] for p in tile["sparkline"]]
        assert len(got) == 12, tile["metric"]
        assert [r["value"] is None for r in alone] == [v is None for v in got], tile["metric"]
        assert [r["value"] for r in alone if r["value"] is not None] == pytest.approx(
            [v for v in got if v is not None], rel=1e-9), tile["metric"]
        checked += 1
    assert checked >= 5
