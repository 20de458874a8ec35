"""A restarted server answers from what the previous one kept for the same data (`web.kept`):
the same page and the same JSON with no connection to the workspace, and a cold start as
before whenever the data, the settings or the code differ; the users' credentials are never
written; a damaged file is a cold start."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from test_web_data import build_workspace

from funnelmetrics.web import kept, source
from funnelmetrics.web.app import create_app
from funnelmetrics.web.auth import CSRF_COOKIE


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.duckdb"
    build_workspace(path, leads=600)
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read-only connection the server opens to the workspace."""
    calls: list[str] = []
    real = source._open_read_only

    def counting(path: Any) -> Any:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(source, "_open_read_only", counting)
    return calls


def serve(db: Path, *urls: str, auth: bool = False, headers: dict[str, str] | None = None,
          warm: bool = True) -> Iterator[Any]:
    """Start a server on `db` (its lifespan included: the kept results read, then written at
    the end), wait until it has read what was kept, and answer each url (`warm`: the server
    warms its other pages meanwhile, as `serve` does)."""
    app = create_app(db, auth=auth, warm=warm)

    async def run() -> list[Any]:
        async with app.router.lifespan_context(app):
            assert await asyncio.to_thread(app.state.warmer.read.wait, 60)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://testserver") as client:
                return [await client.get(url, headers=headers or {}) for url in urls]

    return iter(asyncio.run(run()))


def page_text(response: Any) -> str:
    """The page as any browser gets it: this browser's CSRF token taken out."""
    assert response.status_code == 200, response.text[:500]
    token = response.cookies.get(CSRF_COOKIE)
    assert token
    return response.text.replace(token, "…")


OVERVIEW_API = "/api/v1/overview"


def test_a_restarted_server_answers_from_what_the_last_one_kept(db, opened):
    first_page, first_json = serve(db, "/", OVERVIEW_API)
    assert opened, "the first server computes (it opens the workspace)"
    assert list(Path(kept.directory()).glob("*.pages")) and \
        list(Path(kept.directory()).glob("*.results"))
    opened.clear()
    again_page, again_json = serve(db, "/", OVERVIEW_API)
    assert opened == []  # answered from what was kept: no connection at all
    assert page_text(again_page) == page_text(first_page)
    assert again_json.status_code == 200 and again_json.json() == first_json.json()


def test_new_data_is_a_cold_start(db, opened):
    serve(db, OVERVIEW_API)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO leads (lead_id, created_at, source) SELECT 'NEW' || i, "
                "now()::TIMESTAMP - INTERVAL 40 DAY, 'web' FROM range(50) t(i)")
    con.close()
    opened.clear()
    after, = serve(db, OVERVIEW_API)
    assert after.status_code == 200
    assert opened, "new data: computed again, not read from what was kept"


def test_changed_settings_or_code_are_a_cold_start(db, opened, monkeypatch):
    serve(db, "/")
    settings = db.parent / "funnelmetrics.toml"
    settings.write_text("# edited\n")  # none before: the defaults
    opened.clear()
    serve(db, "/")
    assert opened, "other settings: computed again"
    from funnelmetrics.compile import sqlcache

    monkeypatch.setattr(sqlcache, "code_stamp", lambda: "another version of the code")
    opened.clear()
    serve(db, "/")
    assert opened, "other code: computed again"


def test_the_users_credentials_are_never_kept(db):
    tokens = build_workspace(db.parent / "auth" / "funnel.duckdb", leads=300)
    auth_db = db.parent / "auth" / "funnel.duckdb"
    me, tiles = serve(auth_db, "/api/v1/me", OVERVIEW_API, auth=True,
                      headers={"Authorization": f"Bearer {tokens['root']}"})
    assert me.status_code == 200 and tiles.status_code == 200
    files = list(Path(kept.directory()).glob("*.results"))
    assert files
    for path in files:
        _, entries = pickle.loads(path.read_bytes())
        keys = [pickle.loads(k) for k in entries]
        assert keys and not any(k[0] == "users" for k in keys)
        assert all(token[-12:].encode() not in path.read_bytes() for token in tokens.values())


def test_a_damaged_file_is_a_cold_start(db, opened):
    first, = serve(db, "/")
    for path in Path(kept.directory()).iterdir():
        path.write_bytes(b"not a pickle")
    opened.clear()
    again, = serve(db, "/")
    assert opened and page_text(again) == page_text(first)


def test_off_keeps_nothing(db, monkeypatch):
    folder = Path(kept.directory())
    monkeypatch.setenv(kept.ENV, "off")
    page, = serve(db, "/")
    assert page.status_code == 200
    assert kept.directory() is None and not list(folder.iterdir())


# ---- a load prepares the overview for the first server (`web.prepare`) ----------------------
def leads_file(folder: Path, name: str, n: int) -> Path:
    """`n` new leads created 40 days ago (inside the overview's default range)."""
    import datetime as dt

    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).strftime("%Y-%m-%d 10:00:00")
    path = folder / name / "leads.csv"
    path.parent.mkdir(parents=True)
    path.write_text("lead_id,created_at,source,segment\n" + "".join(
        f"{name}{i},{day},web,SMB\n" for i in range(n)))
    return path


def test_a_load_prepares_the_overview_for_the_first_server(db, opened, tmp_path, monkeypatch):
    """`ingest --prepare` computes the overview for the new data and keeps it: the first
    server on that data answers it without opening the workspace, the page a cold server
    computes. Without the option a workspace never served is not prepared; one served before
    is; `--no-prepare` never."""
    from typer.testing import CliRunner

    from funnelmetrics.cli import app as cli_app

    def ingest(name: str, *options: str) -> str:
        r = CliRunner().invoke(cli_app, ["ingest", str(leads_file(tmp_path, name, 20)),
                                         "--db", str(db), *options])
        assert r.exit_code == 0, r.output
        return r.output

    prepared = "Dashboard overview prepared"
    assert prepared not in ingest("a")  # never served: nothing to prepare for
    assert not list(Path(kept.directory()).glob("*.results"))
    assert prepared in ingest("b", "--prepare")
    opened.clear()
    page, = serve(db, "/", warm=False)  # no warm-up of the other pages: the overview alone
    assert opened == [], "the first server on the new data computed the overview"
    with monkeypatch.context() as m:  # the same page from a server that computes it
        m.setenv(kept.ENV, str(tmp_path / "elsewhere"))
        cold, = serve(db, "/", warm=False)
    assert opened, "the cold server computes"
    assert page_text(page) == page_text(cold)
    assert prepared in ingest("c")  # served before: prepared by default
    same = CliRunner().invoke(cli_app, ["ingest", str(tmp_path / "c" / "leads.csv"), "--db",
                                        str(db), "--prepare"])  # the data as it was: asked
    assert same.exit_code == 0 and prepared in same.output, same.output
    assert prepared not in ingest("d", "--no-prepare")
    opened.clear()
    serve(db, "/", warm=False)
    assert opened, "not prepared: the server computes the new data's overview"


def test_preparing_leaves_the_workspace_as_it_was(db):
    from funnelmetrics.web.prepare import prepare

    before = source.Source(db).version()
    assert prepare(db) > 0
    assert source.Source(db).version() == before  # the server reads it for this very data


def test_a_miss_waits_for_the_kept_results_being_read(db):
    """While a starting server reads what was kept, a request's miss waits for it rather than
    compute what is about to arrive."""
    import threading
    import time

    src = source.Source(db)
    src.kept_read = threading.Event()
    session = src.session()

    def arrive() -> None:
        time.sleep(0.3)
        src.cache.put((session.version, ("answer",)), 42)
        src.kept_read.set()

    threading.Thread(target=arrive).start()
    assert session.remember(("answer",), lambda: pytest.fail("computed, not waited for")) == 42


def test_prepare_on_an_engine_says_it_applies_to_duckdb_files():
    from funnelmetrics.cli.app import OutputFormat, err_console
    from funnelmetrics.cli.workspace_cmds import prepare_dashboard

    with err_console.capture() as asked:
        prepare_dashboard("postgres://fm@127.0.0.1:1/crm", True, OutputFormat.table)
    assert "DuckDB file" in asked.get()
    with err_console.capture() as default:
        prepare_dashboard("postgres://fm@127.0.0.1:1/crm", None, OutputFormat.table)
    assert default.get() == ""
