"""Compiled queries, kept: a metric query's standalone SQL, so that asking again skips building
and compiling its Ibis expression (0.1–0.3 s a query, most of a small metric's time).

An entry is the SQL `--explain` prints (the period spine written out, no session table named)
with two kinds of placeholder, bound each time it runs:

* `$__fm_now` — the query's instant, wherever the SQL compares with it (partial periods, immature
  cohorts), unless the query gave `as_of` (then it is part of the key);
* `$__fm_w0`, `$__fm_w1`, … — the `where` values, so that a filter value never asked before reuses the
  query of its dimension (the dashboard's "never-seen filter").

The key is the request as given (metric id and options, spelled as the caller spelled them: a
different spelling is a miss, never a wrong answer), the `where` dimensions and how many values
each has, the workspace file's path, its settings file's bytes and the package's code. The SQL
depends on the data only through what compiling it asked the database (the workspace's tables
and columns; the data's first and last days for a default range; whether any amount is in a
foreign currency and has its rate): those questions are kept with the SQL as *probes*, their
SQL and answer. A kept query answers only while every probe answers the same — so a load that
adds rows keeps it (the same SQL reads them), one that changes a probe's answer compiles the
request anew. The probes are asked again only when the database file changed since they last
held. Python code that decided with the instant (a monthly churn's pooled months, an empty
workspace's "today") makes an entry hold for that UTC and local day only.

DuckDB files only (an engine's URL has no such stamp). Entries live in memory and in files
under `$FUNNELMETRICS_SQL_CACHE` (default `$XDG_CACHE_HOME/funnelmetrics/sql`, i.e.
~/.cache/funnelmetrics/sql); `FUNNELMETRICS_SQL_CACHE=off` turns the cache off. A cache that
cannot be written is skipped silently: it only ever saves time.

This module imports neither Ibis nor pandas: the command line answers a kept query with DuckDB
alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ENV = "FUNNELMETRICS_SQL_CACHE"
FORMAT = 1  # bump when an entry's layout changes
MAX_FILES = 5000  # files kept on disk; the oldest go first
NOW = "$__fm_now"  # placeholders: names no data or setting spells


def where_placeholder(i: int) -> str:
    return f"$__fm_w{i}"


def quote(text: str) -> str:
    """A SQL string literal (standard SQL: a quote doubled; DuckDB reads no backslash escape;
    `split_where` keeps no value with a NUL)."""
    return "'" + text.replace("'", "''") + "'"
CONFIG_NAME = "funnelmetrics.toml"


@dataclass
class Entry:
    """A kept query: its SQL with placeholders, its columns and what a surface needs to show
    the result without the catalogue (unit, names)."""

    sql: str
    columns: list[str]
    types: list[str]  # Ibis type names, e.g. "float64", "date", "!boolean"
    where_params: int = 0  # where_placeholder(0) … (n-1)
    binds_now: bool = False
    day: list[str] | None = None  # [UTC date, local date] the entry holds on (None: any day)
    timezone: str = "UTC"
    info: dict[str, Any] = field(default_factory=dict)
    probes: list[list[str]] = field(default_factory=list)  # [SQL, its answer as JSON text]

    def valid(self, now: dt.datetime) -> bool:
        if self.day is None:
            return True
        return [now.date().isoformat(), _local_date(now, self.timezone)] == self.day

    def text(self, where_values: list[str], now: dt.datetime) -> str:
        """The SQL with its placeholders filled in as literals (DuckDB's own parameter
        binding loads pandas, half a second: more than the whole answer)."""
        sql = self.sql
        if self.binds_now:
            sql = sql.replace(NOW, f"TIMESTAMP '{now.isoformat(sep=' ')}'")
        for i in reversed(range(self.where_params)):  # $…w10 before $…w1
            sql = sql.replace(where_placeholder(i), quote(where_values[i]))
        return sql

    @property
    def numeric(self) -> set[str]:
        return {c for c, t in zip(self.columns, self.types, strict=True)
                if t.lstrip("!").startswith(("float", "int", "uint", "decimal"))}


def _local_date(now: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).date().isoformat()


# ---- keys -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def code_stamp() -> str:
    """The package's version and the size and modification time of each of its modules (a
    source checkout changes without a new version)."""
    import funnelmetrics

    root = Path(funnelmetrics.__file__).parent
    h = hashlib.sha256(funnelmetrics.__version__.encode())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def workspace_stamp(db: str | Path) -> str | None:
    """The workspace's part of a key — the file's path, its settings and the code — or None
    when `db` is not a DuckDB file (an engine's URL, a missing file). The data is checked by
    the entry's probes (`confirm`)."""
    text = str(db)
    if "://" in text or text == ":memory:":
        return None
    try:
        real = Path(text).resolve(strict=True)
    except OSError:
        return None
    parts = [str(real)]
    try:
        parts.append(hashlib.sha256((real.parent / CONFIG_NAME).read_bytes()).hexdigest())
    except OSError:
        parts.append("no settings")
    parts.append(code_stamp())
    return "\n".join(parts)


def file_state(db: str | Path) -> tuple[Any, ...] | None:
    """Size, modification time and inode of the database file and its WAL: any write changes
    them."""
    try:
        real = Path(str(db)).resolve(strict=True)
        st = real.stat()
    except OSError:
        return None
    out: tuple[Any, ...] = (st.st_size, st.st_mtime_ns, st.st_ino)
    try:
        w = real.with_name(real.name + ".wal").stat()
        out += (w.st_size, w.st_mtime_ns, w.st_ino)
    except OSError:
        out += (None,)
    return out


def data_version(db: str | Path) -> tuple[int, ...]:
    """The modification time and size of a DuckDB workspace file and of its write-ahead log
    (zeros for one that does not exist): a server's results hold for one such version
    (`Source.version`), and a load that changes it changes the data."""
    parts: list[int] = []
    for path in (Path(db), Path(f"{db}.wal")):
        try:
            st = path.stat()
        except OSError:
            parts += [0, 0]
        else:
            parts += [st.st_mtime_ns, st.st_size]
    return tuple(parts)


# the workspace's tables and columns: the first probe of every entry
SCHEMA_PROBE = ("SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = 'main' "
                "ORDER BY ALL")


def answer_text(rows: list[tuple[Any, ...]]) -> str:
    """A probe's answer as text to compare (dates and numbers as DuckDB gives them)."""
    return json.dumps(rows, default=str, ensure_ascii=False)


def ask(con: Any, sql: str) -> str:
    return answer_text(con.execute(sql).fetchall())


_CONFIRMED: dict[str, tuple[Any, ...]] = {}  # key → the file state its probes last held in


def confirm(con: Any, k: str, entry: Entry, db: str | Path) -> bool:
    """Whether the entry still answers for the workspace's data: every probe answers as when
    it was compiled (asked again only when the file changed since they last held)."""
    state = file_state(db)
    if state is not None and _CONFIRMED.get(k) == state:
        return True
    for sql, expected in entry.probes:
        try:
            if ask(con, sql) != expected:
                return False
        except Exception:  # a probe that cannot run any more: compile anew
            return False
    if state is not None:
        _CONFIRMED[k] = state
    return True


def _plain(value: Any) -> Any:
    """A JSON-able spelling of an option (dates as text, tuples as lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return f"{type(value).__name__}:{value}"


def split_where(where: Mapping[str, Any] | None) -> tuple[list[list[Any]], list[str]] | None:
    """The `where` filter's shape (dimension and number of values, in order) and its values in
    that order; None when a value is not text (only text is filled in) or holds a NUL."""
    shape: list[list[Any]] = []
    values: list[str] = []
    for dim, wanted in (where or {}).items():
        many = isinstance(wanted, list | tuple)
        items = list(wanted) if many else [wanted]
        if not all(isinstance(v, str) and "\x00" not in v for v in items):
            return None
        shape.append([str(dim), len(items) if many else "one"])
        values.extend(items)
    return shape, values


def key(stamp: str, surface: str, metric_id: str, query: Mapping[str, Any],
        where_shape: list[list[Any]]) -> str:
    """The cache key of a request (see the module doc); `surface` names the caller's variant
    of the SQL (e.g. "cli", or "web:10001" for a row cap)."""
    rest = {k: v for k, v in query.items() if k != "where"}
    text = json.dumps([FORMAT, stamp, surface, metric_id, _plain(rest), where_shape],
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# ---- storage ----------------------------------------------------------------------------------
_MEMORY: dict[str, Entry] = {}
_LOCK = threading.Lock()
_MEMORY_MAX = 4096


def directory() -> Path | None:
    from funnelmetrics.cachedir import folder

    return folder(ENV, "sql")


def enabled() -> bool:
    return directory() is not None


def lookup(k: str, now: dt.datetime) -> Entry | None:
    entry = _MEMORY.get(k)
    if entry is None:
        folder = directory()
        if folder is None:
            return None
        try:
            data = json.loads((folder / f"{k}.json").read_text(encoding="utf-8"))
            entry = Entry(**data)
        except (OSError, ValueError, TypeError):
            return None
        _remember(k, entry)
    return entry if entry.valid(now) else None


def store(k: str, entry: Entry) -> None:
    _remember(k, entry)
    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(entry), f, ensure_ascii=False)
        os.replace(tmp, folder / f"{k}.json")  # atomic: a reader sees the old file or the new
        _prune(folder)
    except OSError:
        return


def _remember(k: str, entry: Entry) -> None:
    with _LOCK:  # a server's worker threads share the memory
        if len(_MEMORY) >= _MEMORY_MAX:
            _MEMORY.pop(next(iter(_MEMORY)))
        _MEMORY[k] = entry


def _prune(folder: Path) -> None:
    """Keep at most MAX_FILES entries (checked on about one write in fifty)."""
    if os.urandom(1)[0] >= 5:
        return
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for old in files[:max(0, len(files) - MAX_FILES)]:
        with contextlib.suppress(OSError):
            old.unlink()


def clear_memory() -> None:
    _MEMORY.clear()
    _CONFIRMED.clear()


# ---- running ----------------------------------------------------------------------------------
def run(con: Any, entry: Entry, where_values: list[str], now: dt.datetime
        ) -> list[tuple[Any, ...]]:
    """The entry's rows on a DuckDB connection (`duckdb.DuckDBPyConnection`), its
    placeholders filled in."""
    return con.execute(entry.text(where_values, now)).fetchall()
