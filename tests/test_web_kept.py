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


def serve(db: Path, *urls: str, auth: bool = False, headers: dict[str, str] | None = None
          ) -> Iterator[Any]:
    """Start a server on `db` (its lifespan included: the kept results read, then written at
    the end), wait until it has read what was kept, and answer each url."""
    app = create_app(db, auth=auth)

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
