"""Operating the CLI (issue 18): `serve` on a busy port says so before any URL; the demo ends
with commands a user can paste."""

from __future__ import annotations

import shlex
import socket

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.cli.demo_cmds import next_steps


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    funnelmetrics.open(path).close()
    return str(path)


def test_serve_on_a_busy_port_says_so_before_a_url(db):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--db", db, "--no-auth", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "http://" not in result.output and "Traceback" not in result.output


def test_serve_on_an_unknown_host_is_one_line(db):
    result = CliRunner().invoke(app, ["serve", "--db", db, "--host", "no-such-host.invalid",
                                      "--port", "8765"])
    assert result.exit_code == 1
    assert "no-such-host.invalid" in result.stderr and "http://" not in result.output


def test_demo_next_steps_can_be_pasted():
    steps = next_steps("/tmp/my demo/w.duckdb")
    assert [shlex.split(s)[1:3] for s in steps] == [
        ["funnel", "--db"], ["metric", "win_rate"], ["serve", "--db"]]
    assert all(shlex.split(s)[shlex.split(s).index("--db") + 1] == "/tmp/my demo/w.duckdb"
               for s in steps)  # a path with a space is quoted for the shell
