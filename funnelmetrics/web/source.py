"""The workspace behind the server: short-lived connections and a result cache.

Connections are opened per request (read-only) and closed after it, so the CLI (`user add`,
`ingest`) can write to the file while the server runs. Results are cached in-process, keyed by
the workspace file's modification time and size: a load changes them and empties the cache.
What a server computed is kept on disk for the next one on the same data (`web.kept`).

A request whose results are all cached is answered on the event loop (`Session.run`): no worker
thread, no connection. Only a cache miss goes to a worker thread, where it may query DuckDB.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from starlette.concurrency import run_in_threadpool

import funnelmetrics
from funnelmetrics.compile.sqlcache import data_version
from funnelmetrics.config import CONFIG_NAME, Config, load_config
from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

T = TypeVar("T")


class Miss(BaseException):  # noqa: N818 - a signal, not an error
    """Raised in a session running on the event loop when a result is not cached (the work goes
    to a worker thread instead). A BaseException, so no `except Exception` swallows it."""


class ReadWriteLock:
    """Many readers or one writer (DuckDB refuses a read-write and a read-only connection to the
    same file in one process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer and self._readers == 0)
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class ResultCache:
    """A bounded LRU of results with one computation per key at a time (no thundering herd)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return True, self._data[key]
        return False, None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    @contextmanager
    def flight(self, key: Hashable) -> Iterator[None]:
        with self._lock:
            lock = self._flights.setdefault(key, threading.Lock())
        with lock:
            yield
        with self._lock:
            self._flights.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def items(self) -> list[tuple[Hashable, Any]]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._data.items())


KEPT_WAIT_S = 20  # the longest a miss waits for the kept results being read at the start
ENGINE_CACHE_S = 60  # how long results from a Spark or PostgreSQL workspace are kept


class Source:
    """One workspace file served over HTTP."""

    def __init__(self, db_path: str | Path, *, cache_size: int = 1024) -> None:
        self.target = str(db_path)  # a file, or an engine's URL (a Path would collapse its //)
        self.is_url = "://" in self.target
        self.path = Path.cwd() / "funnelmetrics" if self.is_url else Path(db_path)
        if not self.is_url and not self.path.exists():
            raise ConfigError(f"{self.path}: no workspace here (run `funnelmetrics init --db "
                              f"{self.path}` or `funnelmetrics demo`)")
        self.lock = ReadWriteLock()
        self.cache = ResultCache(cache_size)
        # rendered pages and serialised JSON, apart: many users' pages must not push out the
        # results they are built from (seconds to compute, not milliseconds)
        self.bodies = ResultCache(cache_size)
        self._directory = self.path.resolve().parent
        self._config: tuple[tuple[int, ...], Config] | None = None
        self.max_rows = 100_000  # the most rows one answer may have (`create_app(max_rows=)`)
        self.logouts = LogoutList(Path(f"{self.path}.logouts"))
        # set once the results a previous server (or a load, `web.prepare`) kept are read: a
        # miss meanwhile waits for them rather than compute what is about to arrive
        self.kept_read = threading.Event()
        self.kept_read.set()
        if not self.is_url:  # the pages a previous server rendered for this very data
            from funnelmetrics.web import kept

            kept.load(self, "pages")

    def revoked(self, sid: str) -> bool:
        """Whether the session `sid` was logged out (by this server or another one)."""
        return self.logouts.has(sid)

    def revoke(self, sid: str, expires: int) -> None:
        self.logouts.add(sid, expires)

    def version(self) -> tuple[int, ...]:
        """Modification time and size of the database and its write-ahead log. On an engine
        (a URL) nothing local says when the data changed: results are kept ENGINE_CACHE_S."""
        if self.is_url:
            return (int(time.time() // ENGINE_CACHE_S),)
        return data_version(self.path)

    @contextmanager
    def writing(self) -> Iterator[Workspace]:
        """A read-write workspace, once every reader in this process has finished."""
        with self.lock.exclusive():
            ws = _open(self.target, read_only=False)
            try:
                yield ws
            finally:
                ws.close()
                self.cache.clear()
                self.bodies.clear()

    def config(self) -> Config:
        """The workspace settings (`funnelmetrics.toml` beside the database), read again only
        when the file changes."""
        directory = self._directory
        try:
            st = (directory / CONFIG_NAME).stat()
            stamp: tuple[int, ...] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = ()
        kept = self._config
        if kept is not None and kept[0] == stamp:
            return kept[1]
        config = load_config(directory)
        self._config = (stamp, config)
        return config

    def session(self) -> Session:
        return Session(self)


class LogoutList:
    """Logged-out session ids until their cookies expire, in a small file beside the database
    (`<db>.logouts`, a line `sid expiry` each): every server on the workspace, and this one
    after a restart, refuses them. Read again only when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._ids: dict[str, int] = {}

    def _stat(self) -> tuple[int, ...]:
        try:
            st = self.path.stat()
        except OSError:
            return ()
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> dict[str, int]:
        stamp = self._stat()
        if stamp != self._stamp:
            ids: dict[str, int] = {}
            with suppress(OSError):
                for line in self.path.read_text(encoding="ascii", errors="ignore").splitlines():
                    sid, _, expires = line.partition(" ")
                    with suppress(ValueError):
                        ids[sid] = int(expires)
            self._stamp, self._ids = stamp, ids
        return self._ids

    def has(self, sid: str) -> bool:
        with self._lock:
            return sid in self._read()

    def add(self, sid: str, expires: int) -> None:
        """Revoke `sid`; expired entries are dropped (the file stays small)."""
        now = time.time()
        with self._lock:
            ids = {k: v for k, v in self._read().items() if v >= now}
            ids[sid] = expires
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text("".join(f"{k} {v}\n" for k, v in ids.items()), encoding="ascii")
            os.replace(tmp, self.path)
            self._stamp, self._ids = self._stat(), ids


class Session:
    """One request's view of the workspace: a connection opened at the first cache miss."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.version = source.version()
        self.offline = False  # on the event loop: cached results only (else `Miss`)
        self._ws: Workspace | None = None
        self._held: Any = None
        self._batching = False
        self._batch: Any = None  # the workspace's batch, entered

    @property
    def opened(self) -> bool:
        return self._ws is not None

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            if self.offline:
                raise Miss
            held = self.source.lock.shared()
            held.__enter__()
            try:
                self._ws = _open_read_only(self.source.target)
            except BaseException:
                held.__exit__(None, None, None)
                raise
            self._held = held
            self._join_batch()
        return self._ws

    @contextmanager
    def batch(self) -> Iterator[Session]:
        """What is computed inside shares one library batch (`Workspace.batch`: table handles,
        currency probes, the leads' stage reach times materialised once), as a page's dozen
        metrics do; a connection is still opened only at the first cache miss."""
        if self._batching:
            yield self
            return
        self._batching = True
        try:
            self._join_batch()
            yield self
        finally:
            self._batching = False
            entered, self._batch = self._batch, None
            if entered is not None:
                entered.__exit__(None, None, None)

    def _join_batch(self) -> None:
        if self._batching and self._ws is not None and self._batch is None:
            batch = self._ws.batch()
            batch.__enter__()
            self._batch = batch

    def cached(self, key: Hashable, compute: Callable[[Workspace], T]) -> T:
        """`compute(ws)`, remembered for this version of the workspace file."""
        return self.remember(key, lambda: compute(self.ws))

    def remember(self, key: Hashable, compute: Callable[[], T], *, body: bool = False,
                 cheap: bool = False) -> T:
        """`compute()` (something built from cached results: a page, a JSON body), remembered
        for this version of the workspace file; no connection is opened on a hit. `body`: a
        response body, kept in the cache of bodies. `cheap`: computed even on the event loop
        (a slice of a cached frame), where anything else waits for a worker thread."""
        cache = self.source.bodies if body else self.source.cache
        full = (self.version, key)
        hit, value = cache.get(full)
        if hit:
            return value
        if self.offline:
            if not cheap:
                raise Miss
            value = compute()  # no flight lock on the event loop: never wait for a thread
            cache.put(full, value)
            return value
        if not self.source.kept_read.is_set() and self.source.kept_read.wait(KEPT_WAIT_S):
            hit, value = cache.get(full)
            if hit:
                return value
        with cache.flight(full):
            hit, value = cache.get(full)
            if hit:
                return value
            value = compute()
            cache.put(full, value)
            return value

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` right here on the event loop if every result it asks this
        session for is cached (no thread hop, no connection, no lock); else, from the start
        again, in a worker thread where it may compute them. `fn` must be safe to run twice (it
        only reads the request and the session's cache before a miss)."""
        self.offline = True
        try:
            return fn(*args, **kwargs)
        except Miss:
            pass
        finally:
            self.offline = False
        return await run_in_threadpool(fn, *args, **kwargs)

    async def aclose(self) -> None:
        """`close` from the event loop: a connection is closed in a worker thread, and even if
        the request is cancelled (a reader left holding the lock would block every writer)."""
        if self._ws is not None:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self.close)

    def close(self) -> None:
        if self._ws is not None:
            entered, self._batch = self._batch, None
            if entered is not None:  # closed inside its batch: release what it made
                with suppress(Exception):  # (the connection closes anyway)
                    entered.__exit__(None, None, None)
            try:
                self._ws.close()
            finally:
                self._ws = None
                self._held.__exit__(None, None, None)
                self._held = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WorkspaceBusy(ConfigError):
    """Another process (a CLI ingest, `user remove`) holds the workspace file for writing: the
    API answers 503 with Retry-After, never the file's path or the writer's PID. An upload
    while another process writes is busy the same way."""


def _open_read_only(path: str | Path) -> Workspace:
    return _open(path, read_only=True)


def _open(path: str | Path, *, read_only: bool) -> Workspace:
    try:
        return funnelmetrics.open(path, read_only=read_only)
    except Exception as exc:
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            if "lock" in str(exc).lower():
                raise WorkspaceBusy("the workspace is busy: another process is writing to it; "
                                    "retry in a moment") from None
            raise ConfigError("cannot open the workspace database") from None
        raise
