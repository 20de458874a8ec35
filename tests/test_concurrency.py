"""Issue 19, "one workspace, several processes": a real server (uvicorn in a subprocess on a
loopback port) keeps answering while the CLI writes to the same DuckDB file beside it.

The server opens the file read-only per request and closes it after; the CLI waits (with a
message) while a request holds it; a request during a CLI write answers 503 with Retry-After.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_web_data import build_workspace

CLI = [sys.executable, "-c", "from funnelmetrics.cli.app import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--db", str(db), "--port", str(self.port), "--no-warm"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(600):
            try:
                httpx.get(f"{self.base}/login", timeout=1)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.proc.stderr.read()}") from None  # type: ignore[union-attr]
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Traffic:
    """Uncached metric requests (a new start date each) in a loop on a thread: the server opens
    the file for each, as it does under real use."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.statuses: list[tuple[int, str, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60,
                          headers={"Authorization": f"Bearer {self.token}"}) as client:
            day = 0
            while not self._stop.is_set():
                day += 1
                start = f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
                r = client.get("/api/v1/metric/leads_created", params={"start": start})
                self.statuses.append((r.status_code, r.text[:300],
                                      r.headers.get("retry-after")))

    def __enter__(self) -> Traffic:
        self._thread.start()
        while not self.statuses:  # the server is busy answering before the CLI starts
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], Server]]:
    db = tmp_path / "funnel.duckdb"
    tokens = build_workspace(db, leads=2000)
    server = Server(db)
    try:
        yield db, tokens, server
    finally:
        server.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FUNNELMETRICS_WAIT": "60"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def test_user_remove_and_add_work_while_the_server_answers(
        served: tuple[Path, dict[str, str], Server]) -> None:
    db, tokens, server = served
    me = {"Authorization": f"Bearer {tokens['ana']}"}
    assert httpx.get(f"{server.base}/api/v1/me", headers=me).status_code == 200
    with Traffic(server.base, tokens["root"]) as traffic:
        removed = _cli("user", "remove", "ana", "--db", str(db))
        # the revoked token stops working at once, while the server keeps running
        assert httpx.get(f"{server.base}/api/v1/me", headers=me, timeout=60).status_code == 401
        added = _cli("user", "add", "zoe", "--role", "viewer", "--db", str(db))
    assert removed.returncode == 0, removed.stderr
    assert "Traceback" not in removed.stderr and "PID" not in removed.stderr
    assert added.returncode == 0, added.stderr
    token = next(w for w in added.stdout.split() if w.startswith("fm_"))
    r = httpx.get(f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["name"] == "zoe"
    assert len(traffic.statuses) > 1
    assert {s for s, _, _ in traffic.statuses} <= {200, 503}, traffic.statuses


def test_an_ingest_beside_the_server_waits_and_requests_answer_200_or_503(
        served: tuple[Path, dict[str, str], Server], tmp_path: Path) -> None:
    db, tokens, server = served
    leads = tmp_path / "leads.csv"
    with leads.open("w") as out:
        out.write("lead_id,created_at,source,rep_id\n")
        for i in range(20_000):
            out.write(f"N{i},2026-03-{1 + i % 28:02d},web,r{1 + i % 4}\n")
    with Traffic(server.base, tokens["root"]) as traffic:
        loaded = _cli("ingest", str(leads), "--db", str(db), "--format", "json")
        time.sleep(0.3)  # a few answers after the load too
    assert loaded.returncode == 0, loaded.stderr
    assert "Traceback" not in loaded.stderr
    statuses = {s for s, _, _ in traffic.statuses}
    assert statuses <= {200, 503}, traffic.statuses
    for status, body, retry in traffic.statuses:
        if status == 503:
            assert retry == "1" and "busy" in body
            assert str(db.parent) not in body and "PID" not in body
    assert traffic.statuses[-1][0] == 200
    r = httpx.get(f"{server.base}/api/v1/metric/leads_created",
                  params={"start": "2026-03-01", "end": "2026-03-29"},
                  headers={"Authorization": f"Bearer {tokens['root']}"})
    assert r.status_code == 200


def test_the_cli_gives_up_after_wait_seconds_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    build_workspace(db, leads=40)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, time\n"
         f"con = duckdb.connect({str(db)!r})\nprint('locked', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = subprocess.run([*CLI, "user", "remove", "ana", "--db", str(db)],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "FUNNELMETRICS_WAIT": "0.5"})
        waited = subprocess.run([*CLI, "ingest", str(tmp_path / "none.csv"), "--db", str(db),
                                 "--wait", "0.3"], capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    for result in (done, waited):
        assert result.returncode == 1
        assert "waiting for" in result.stderr  # the progress message
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "busy" in lines[0], result.stderr
        assert "Traceback" not in result.stderr and "PID" not in result.stderr
