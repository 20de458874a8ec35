"""Benchmark the dashboard and REST API (issue #5 §5): latency with concurrent clients, warm.

    .venv/bin/python benchmarks/bench_web.py [--leads 1000000] [--db PATH] [--clients 20]
        [--requests 400] [--data-dir benchmarks/data]

The workspace is `--db`, else the demo workspace of `--leads` leads (made once with
`funnelmetrics demo` in --data-dir/web-<leads>/ and reused). The server is the real thing:
`funnelmetrics serve` (uvicorn) in its own process on 127.0.0.1, with token auth (an admin user
is added to the workspace). Clients are httpx AsyncClients on loopback.

Per request kind — the overview page (HTML, as a browser asks for it), the overview API (KPI
tiles as JSON) and a filtered metric (`win_rate` by source where segment=SMB over a year) — it
prints the first (cold, uncached) latency, then sends `--requests` requests from `--clients`
concurrent clients once warm and prints p50 / p95 / p99 / max latency and throughput. A trivial
authenticated request (`/api/v1/me`) gives the floor the server and machine set.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import funnelmetrics  # noqa: E402
from funnelmetrics.web.users import add_user, remove_user  # noqa: E402

BIN = Path(sys.executable).parent / "funnelmetrics"
TABLES = ("leads", "stage_events", "opportunities", "touchpoints", "subscriptions", "spend")


def workspace(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db)
    db = Path(args.data_dir) / f"web-{args.leads}" / "funnel.duckdb"
    if not db.exists():
        print(f"building the {args.leads:,}-lead demo workspace at {db} …", flush=True)
        subprocess.run([str(BIN), "demo", "--db", str(db), "--leads", str(args.leads),
                        "--format", "json"], check=True, stdout=subprocess.DEVNULL)
    return db


def data_size(db: Path) -> str:
    with funnelmetrics.open(db, read_only=True) as ws:
        counts = {t: int(ws.table(t).count().execute()) for t in TABLES}
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    return f"{rows}; file {db.stat().st_size / 2**20:,.0f} MiB"


def admin_token(db: Path) -> str:
    with funnelmetrics.open(db) as ws:
        remove_user(ws, "bench-web")
        return add_user(ws, "bench-web", "admin")[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(BIN), "serve", "--db", str(db), "--port", str(port),
                             "--no-warm"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/app.css", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def requests_of(start: str, end: str) -> dict[str, str]:
    return {
        "baseline: /api/v1/me": "/api/v1/me",
        "overview page (HTML)": f"/?start={start}&end={end}&grain=month&lang=en",
        "overview API (JSON)": f"/api/v1/overview?start={start}&end={end}&grain=month",
        "filtered metric": f"/api/v1/metric/win_rate?grain=month&by=source&where=segment=SMB"
                           f"&start={start}&end={end}",
    }


async def one(client: httpx.AsyncClient, url: str) -> float:
    t = time.perf_counter()
    r = await client.get(url)
    r.raise_for_status()
    return time.perf_counter() - t


async def load(base: str, token: str, url: str, clients: int, total: int) -> tuple[
        list[float], float]:
    """`total` requests of `url` from `clients` concurrent clients: latencies and wall time."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as client:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                latencies.append(await one(client, url))

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, time.perf_counter() - t


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def main_async(args: argparse.Namespace, db: Path, token: str, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    with funnelmetrics.open(db, read_only=True) as ws:
        hi = ws.table("leads").created_at.max().execute()
    end = (hi.replace(day=1) - dt.timedelta(days=1)).date()  # the last full month
    start = end.replace(year=end.year - 1) + dt.timedelta(days=1)  # and the year before it
    print(f"{'request':<24} {'cold':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} "
          f"{'req/s':>7}   ({args.clients} clients, {args.requests} requests, warm)")
    for name, url in requests_of(start.isoformat(), end.isoformat()).items():
        async with httpx.AsyncClient(base_url=base, timeout=600,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            cold = await one(client, url)
            await one(client, url)  # warm
        lat, wall = await load(base, token, url, args.clients, args.requests)
        ms = [x * 1000 for x in lat]
        print(f"{name:<24} {cold * 1000:>6.0f}ms {statistics.median(ms):>6.1f}ms "
              f"{pct(ms, 0.95):>6.1f}ms {pct(ms, 0.99):>6.1f}ms {max(ms):>6.1f}ms "
              f"{len(lat) / wall:>7.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--db", help="An existing workspace instead of the demo one.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--data-dir", default=str(HERE / "data"))
    args = parser.parse_args()
    db = workspace(args)
    print(f"workspace: {db}")
    print(f"data: {data_size(db)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    token = admin_token(db)
    port = free_port()
    server = start_server(db, port)
    try:
        asyncio.run(main_async(args, db, token, port))
    finally:
        server.terminate()
        server.wait(timeout=30)
        with funnelmetrics.open(db) as ws:
            remove_user(ws, "bench-web")


if __name__ == "__main__":
    main()
