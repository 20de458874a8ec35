"""Benchmark the dashboard and REST API (issue #5 §5): latency with concurrent clients, warm.

    .venv/bin/python benchmarks/bench_web.py [--leads 1000000] [--db PATH] [--clients 20]
        [--requests 400] [--client raw|httpx] [--data-dir benchmarks/data]

The workspace is `--db`, else the demo workspace of `--leads` leads (made once with
`funnelmetrics demo` in --data-dir/web-<leads>/ and reused). The server is the real thing:
`funnelmetrics serve` (uvicorn) in its own process on 127.0.0.1, with token auth (an admin user
is added to the workspace). Clients are keep-alive HTTP/1.1 connections on loopback, each with
its cookies, asking for gzip: by default a minimal asyncio client (see `RawClient`: httpx costs
more CPU per request than the server does, on the same cores), `--client httpx` for httpx.

Per request kind — the overview page (HTML, as a browser asks for it), the overview API (KPI
tiles as JSON) and a filtered metric (`win_rate` by source where segment=SMB over a year) — it
prints the first (cold, uncached) latency, then sends `--requests` requests from `--clients`
concurrent clients once warm and prints p50 / p95 / p99 / max latency, throughput, the server's
CPU time per request and the 1-minute load average of the machine. A trivial authenticated
request (`/api/v1/me`) gives the floor the server and machine set. Then requests no cache has
answered, each asked once: `--unseen` requests that each differ in metric, split, filter and
start day ("never-seen requests"); one request of each (metric, split, filter dimension)
("first of each shape"), then `--unseen` requests of those shapes with filter values never
asked ("never-seen values": the dashboard's filters clicked through; each reuses its shape's
kept SQL, `compile.sqlcache`). The server keeps compiled queries in a temporary folder
(FUNNELMETRICS_SQL_CACHE), empty at the start.
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
import zlib
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


def start_server(db: Path, port: int, cache: Path) -> subprocess.Popen[bytes]:
    """`funnelmetrics serve` without warm-up, keeping compiled queries in `cache` and what it
    computed for the next server in `cache`/results (`web.kept`, written when it stops)."""
    env = {**os.environ, "FUNNELMETRICS_SQL_CACHE": str(cache),
           "FUNNELMETRICS_RESULT_CACHE": str(cache / "results")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python keeps compiled bytecode
    proc = subprocess.Popen([str(BIN), "serve", "--db", str(db), "--port", str(port),
                             "--no-warm"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
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


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: a GET, a cookie jar, a gzip or
    chunked body. An httpx request costs this 2-core machine 3.5-6 ms of client CPU, two to
    four times what the server spends on a cached answer, and the 20 clients share one event
    loop: with httpx the figures measure the client more than the server. This one costs
    0.2-0.3 ms a request (gzip included)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "bench-web",
                        **headers}
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> bytes:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"GET {path} HTTP/1.1\r\n{lines}\r\n".encode("latin-1"))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in head[1:]:
            if ":" in line:
                name, value = (x.strip() for x in line.split(":", 1))
                if name.lower() == "set-cookie":
                    key, _, val = value.split(";", 1)[0].partition("=")
                    self.cookies[key.strip()] = val.strip()
                fields[name.lower()] = value
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            raise RuntimeError(f"GET {path}: a response without a length")
        if fields.get("content-encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if fields.get("connection", "").lower() == "close":
            await self.aclose()
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
        return body

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class HttpxClient:
    """The same over httpx (`--client httpx`), for comparison."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.client = httpx.AsyncClient(base_url=base, headers=headers, timeout=600)

    async def get(self, path: str) -> bytes:
        r = await self.client.get(path)
        r.raise_for_status()
        return r.content

    async def aclose(self) -> None:
        await self.client.aclose()


CLIENTS = {"raw": RawClient, "httpx": HttpxClient}


async def one(client: RawClient | HttpxClient, url: str) -> float:
    t = time.perf_counter()
    await client.get(url)
    return time.perf_counter() - t


async def load(make: type[RawClient | HttpxClient], base: str, token: str, url: str | list[str],
               clients: int, total: int) -> tuple[list[float], float]:
    """`total` requests of `url` from `clients` concurrent clients: latencies and wall time.
    A list of URLs is asked in turn, each once (`total` is then its length).

    The clients are made before the clock starts (an httpx client's SSL context takes tens of
    milliseconds of this process, which would otherwise delay the requests already sent)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(url[i] if isinstance(url, list) else url)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}

    async def worker(client: RawClient | HttpxClient) -> None:
        while True:
            try:
                asked = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            latencies.append(await one(client, asked))

    pool = [make(base, headers) for _ in range(clients)]
    try:
        t = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in pool))
        wall = time.perf_counter() - t
    finally:
        for client in pool:
            await client.aclose()
    return latencies, wall


def unseen_filters(start: dt.date, end: dt.date, n: int) -> list[str]:
    """`n` filtered metric requests no cache has seen: each a different (metric, split,
    filter, start day) — what users clicking through the filters ask for the first time."""
    filters = ("segment=SMB", "segment=Enterprise", "segment=Mid-Market", "source=organic",
               "source=paid_search")
    urls = []
    for i in range(n):
        day = start + dt.timedelta(days=i // 80)
        metric, by = METRICS[i % 4], SPLITS[(i // 4) % 4]
        where = filters[(i // 16) % 5]
        urls.append(f"/api/v1/metric/{metric}?grain=month&by={by}&where={where}"
                    f"&start={day}&end={end}")
    return urls


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def main_async(args: argparse.Namespace, db: Path, token: str, port: int,
                     server: int) -> None:
    base = f"http://127.0.0.1:{port}"
    with funnelmetrics.open(db, read_only=True) as ws:
        hi = ws.table("leads").created_at.max().execute()
    end = (hi.replace(day=1) - dt.timedelta(days=1)).date()  # the last full month
    start = end.replace(year=end.year - 1) + dt.timedelta(days=1)  # and the year before it
    make = CLIENTS[args.client]
    print(f"{'request':<24} {'cold':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} "
          f"{'req/s':>7} {'cpu/req':>8} {'load':>5}   ({args.clients} {args.client} clients, "
          f"{args.requests} requests, warm; cpu/req: the server's CPU time per request)")
    for name, url in requests_of(start.isoformat(), end.isoformat()).items():
        client = make(base, {"Authorization": f"Bearer {token}"})
        try:
            cold = await one(client, url)
            await one(client, url)  # warm
        finally:
            await client.aclose()
        before = cpu_seconds(server)
        lat, wall = await load(make, base, token, url, args.clients, args.requests)
        after = cpu_seconds(server)
        cpu = f"{(after - before) * 1000 / len(lat):>6.1f}ms" \
            if before is not None and after is not None else f"{'?':>8}"
        ms = [x * 1000 for x in lat]
        print(f"{name:<24} {cold * 1000:>6.0f}ms {statistics.median(ms):>6.1f}ms "
              f"{pct(ms, 0.95):>6.1f}ms {pct(ms, 0.99):>6.1f}ms {max(ms):>6.1f}ms "
              f"{len(lat) / wall:>7.0f} {cpu} {os.getloadavg()[0]:>5.1f}", flush=True)
    # filters no cache has seen: every request a new (metric, split, filter, start)
    urls = unseen_filters(start, end, args.unseen)
    await measured(make, base, token, urls, args.clients, server, "never-seen requests")
    # new filter values on a query shape asked before (the dashboard's filters clicked
    # through): one request per (metric, split, filter dimension) first, then values never
    # asked — no result cache has them; each reuses its shape's kept SQL
    values = {d: await dimension_values(make, base, token, d) for d in FILTER_DIMS}
    first, then = unseen_values(start, end, values, args.unseen)
    await measured(make, base, token, first, args.clients, server, "first of each shape")
    await measured(make, base, token, then, args.clients, server, "never-seen values")


FILTER_DIMS = ("segment", "source", "industry", "country")
METRICS = ("win_rate", "leads_created", "stage_conversion_rate", "average_deal_size")
SPLITS = ("source", "segment", "industry", "country")


async def dimension_values(make: type[RawClient | HttpxClient], base: str, token: str,
                           name: str) -> list[str]:
    client = make(base, {"Authorization": f"Bearer {token}"})
    try:
        body = await client.get(f"/api/v1/dimensions/{name}/values")
    finally:
        await client.aclose()
    import json

    return [v for v in json.loads(body)["values"] if v is not None]


def unseen_values(start: dt.date, end: dt.date, values: dict[str, list[str]], n: int
                  ) -> tuple[list[str], list[str]]:
    """The first request of each (metric, split, filter dimension) and `n` requests of the
    same shapes with filter values not asked before (in turn over the shapes)."""
    from urllib.parse import quote

    shapes = [(m, by, d) for m in METRICS for by in SPLITS for d in FILTER_DIMS
              if len(values[d]) > 1]

    def url(metric: str, by: str, dim: str, value: str) -> str:
        return (f"/api/v1/metric/{metric}?grain=month&by={by}&where={dim}={quote(value)}"
                f"&start={start}&end={end}")

    first = [url(m, by, d, values[d][0]) for m, by, d in shapes]
    then: list[str] = []
    k = 1
    while len(then) < n and any(k < len(values[d]) for _, _, d in shapes):
        then += [url(m, by, d, values[d][k]) for m, by, d in shapes if k < len(values[d])]
        k += 1
    return first, then[:n]


async def measured(make: type[RawClient | HttpxClient], base: str, token: str,
                   urls: list[str], clients: int, server: int, name: str) -> None:
    """Each URL once, from `clients` concurrent clients: one line of figures."""
    before = cpu_seconds(server)
    lat, wall = await load(make, base, token, urls, clients, len(urls))
    after = cpu_seconds(server)
    cpu = f"{(after - before) * 1000 / len(lat):>6.1f}ms" \
        if before is not None and after is not None else f"{'?':>8}"
    ms = [x * 1000 for x in lat]
    print(f"{name:<24} {'—':>8} {statistics.median(ms):>6.1f}ms "
          f"{pct(ms, 0.95):>6.1f}ms {pct(ms, 0.99):>6.1f}ms {max(ms):>6.1f}ms "
          f"{len(lat) / wall:>7.0f} {cpu} {os.getloadavg()[0]:>5.1f}   "
          f"({len(urls)} distinct requests)", flush=True)


def cold_start(db: Path, token: str, cache: Path) -> tuple[float, float]:
    """A server started with no warm-up, and the overview page asked as soon as it listens:
    (seconds from the process start to listening, to the overview page answered)."""
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(db, port, cache)
    listening = time.perf_counter() - t0
    try:
        with funnelmetrics.open(db, read_only=True) as ws:
            hi = ws.table("leads").created_at.max().execute()
        end = (hi.replace(day=1) - dt.timedelta(days=1)).date()
        start = end.replace(year=end.year - 1) + dt.timedelta(days=1)
        t1 = time.perf_counter()
        r = httpx.get(f"http://127.0.0.1:{port}{requests_of(str(start), str(end))['overview page (HTML)']}",
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)
        r.raise_for_status()
        answered = listening + time.perf_counter() - t1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return listening, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--db", help="An existing workspace instead of the demo one.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="raw",
                        help="raw: a minimal HTTP/1.1 client (default); httpx: httpx clients.")
    parser.add_argument("--data-dir", default=str(HERE / "data"))
    parser.add_argument("--unseen", type=int, default=200,
                        help="filtered requests no cache has seen, each asked once")
    parser.add_argument("--only-start", action="store_true",
                        help="only the starts: cold, restart, on changed data")
    parser.add_argument("--skip-start", action="store_true",
                        help="no start measurements: the requests only")
    args = parser.parse_args()
    db = workspace(args)
    print(f"workspace: {db}")
    print(f"data: {data_size(db)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    token = admin_token(db)
    import tempfile

    kept = Path(tempfile.mkdtemp(prefix="bench-web-sql-"))
    if not args.skip_start:
        starts(db, token, kept)
    if args.only_start:
        with funnelmetrics.open(db) as ws:
            remove_user(ws, "bench-web")
        return
    port = free_port()
    server = start_server(db, port, Path(tempfile.mkdtemp(prefix="bench-web-sql-")))
    try:
        asyncio.run(main_async(args, db, token, port, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
        with funnelmetrics.open(db) as ws:
            remove_user(ws, "bench-web")


def starts(db: Path, token: str, kept: Path) -> None:
    """A cold start, a restart and a start on changed data, each to the overview page."""
    listening, answered = cold_start(db, token, kept)
    print(f"cold start (no warm-up, nothing kept): listening after {listening:.2f} s, overview "
          f"page answered {answered:.2f} s after the process started", flush=True)
    listening, answered = cold_start(db, token, kept)
    print(f"restart (no warm-up, the first server's compiled queries and results kept): "
          f"listening after "
          f"{listening:.2f} s, overview page answered {answered:.2f} s after the process "
          "started", flush=True)
    import shutil

    shutil.rmtree(kept / "results", ignore_errors=True)  # as after a load: results are stale
    listening, answered = cold_start(db, token, kept)
    print(f"start on changed data (no warm-up, compiled queries kept, no results): listening "
          f"after {listening:.2f} s, overview page answered {answered:.2f} s after the process "
          "started", flush=True)
    # what `ingest` and `demo` leave: the overview's results prepared right after the load
    # (`web.prepare`, in a process of its own as the command's), nothing else kept
    import tempfile

    fresh = Path(tempfile.mkdtemp(prefix="bench-web-sql-"))
    env = {**os.environ, "FUNNELMETRICS_SQL_CACHE": str(fresh),
           "FUNNELMETRICS_RESULT_CACHE": str(fresh / "results")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from funnelmetrics.web.prepare import "
                    "prepare; prepare(sys.argv[1])", str(db)], check=True, env=env)
    took = time.perf_counter() - t
    listening, answered = cold_start(db, token, fresh)
    print(f"start after a load that prepared the overview ({took:.1f} s of the load's command; "
          f"no warm-up, nothing else kept): listening after {listening:.2f} s, overview page "
          f"answered {answered:.2f} s after the process started", flush=True)


if __name__ == "__main__":
    main()
