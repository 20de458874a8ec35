"""Find the data files of a load and present each one to DuckDB as a relation of its columns.

A reader never validates values: it says which columns the file has, the SQL that reads them
(text, or the native type of a Parquet column), and how rows are numbered for the user. Text in
another encoding than UTF-8 is transcoded first (see `encoding`). Broken files — empty, UTF-16
without `--encoding`, wrong delimiter, truncated, corrupt — become one-line `InputError`s.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest import encoding as enc
from funnelmetrics.schema import TABLES

if TYPE_CHECKING:
    from funnelmetrics.ingest.view import View

# Which views (preset or mapping) read a file: (path, format, table named) → views, or None for a
# canonical file read as it is.
ViewFinder = Callable[[Path, str, "str | None"], "list[View] | None"]

FORMATS: dict[str, str] = {
    ".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "json", ".ndjson": "json", ".json": "json", ".xlsx": "xlsx",
}
COMPRESSED = (".gz",)
DELIMITERS = (",", ";", "\t", "|")
QUARANTINE_SUFFIX = ".quarantine.csv"


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# ---- which files, which tables ------------------------------------------------------------------
@dataclass(frozen=True)
class DataFile:
    """One input file, its format and the canonical table it loads into."""

    path: Path
    table: str
    format: str
    label: str | None = None  # the name the quarantine records (an upload's own file name)
    view: View | None = None  # read through a preset or mapping file (None: canonical columns)

    @property
    def key(self) -> str:
        """The file as the quarantine names it: its label, else its absolute path."""
        return self.label or str(self.path.resolve())


def _base_suffix(path: Path) -> str:
    """The suffix that names the format: `.csv` for both `leads.csv` and `leads.csv.gz`."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def data_format(path: Path) -> str | None:
    """`csv`, `parquet`, `json` or `xlsx` from the file name (`.gz` allowed on text formats)."""
    fmt = FORMATS.get(_base_suffix(path))
    compressed = path.suffix.lower() in COMPRESSED
    return None if compressed and fmt in ("parquet", "xlsx") else fmt


def table_name(path: Path) -> str:
    """The table a file names: `leads.csv`, `leads.2026-01.csv` and `Leads.csv.gz` → `leads`."""
    return path.name.split(".")[0].strip().lower()


def discover(paths: Iterable[Path], table: str | None = None,
             views: ViewFinder | None = None) -> list[DataFile]:
    """Every data file named by `paths` (a directory means its supported files), with its table;
    `views` says which files are read through a preset or mapping (one DataFile per table)."""
    files: list[DataFile] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if _is_data_file(p))
            if not found:
                raise InputError(f"{path}: no data files here (expected .csv, .tsv, .parquet, "
                                 ".jsonl, .json or .xlsx files named after their table)")
            for p in found:
                files += _data_files(p, table, views)
        elif not path.exists():
            raise InputError(f"{path}: no such file")
        else:
            files += _data_files(path, table, views)
    # a file named twice loads once
    unique = {(f.path.resolve(), f.table): f for f in reversed(files)}
    return [f for f in files if unique[(f.path.resolve(), f.table)] is f]


def _data_files(path: Path, table: str | None, views: ViewFinder | None) -> list[DataFile]:
    fmt = data_format(path)
    if views is not None and fmt is not None:
        named = (table or table_name(path)).lower()
        found = views(path, fmt, named if named in TABLES else None)
        if found:
            return [DataFile(path, v.table, fmt, view=v) for v in found]
    return [_data_file(path, table)]


def csv_header(path: Path, encoding: str | None = None) -> list[str]:
    """The header of a CSV file as column names (a repeated name gets ` (2)`, ` (3)`…)."""
    header, _ = _header_line(path, encoding)
    preferred = "\t" if _base_suffix(path) == ".tsv" else ","
    delim = choose_delimiter(header, preferred)
    return unique_names(header_fields(header, delim, path), path, rename=True)


def header_fields(header: str, delim: str, path: Path) -> list[str]:
    """The header line's fields; a line the csv module cannot split (a carriage return alone
    inside an unquoted name) is the file's error, not a crash."""
    try:
        return next(csv.reader([header], delimiter=delim))
    except csv.Error as exc:
        raise InputError(f"{path}: line 1 (the header): cannot be read as CSV ({exc}); save "
                         "the file as CSV with one header line") from None


def _is_data_file(path: Path) -> bool:
    return (path.is_file() and not path.name.startswith((".", "~$"))
            and not path.name.endswith(QUARANTINE_SUFFIX) and data_format(path) is not None)


def _data_file(path: Path, table: str | None) -> DataFile:
    fmt = data_format(path)
    if fmt is None:
        raise InputError(f"{path}: unsupported file type (use .csv, .tsv, .parquet, .jsonl, "
                         ".json or .xlsx)")
    name = (table or table_name(path)).lower()
    if name not in TABLES:
        hint = "" if table else (" (name the file after its table or pass --table; a CRM "
                                 "export the presets do not know needs --map)")
        raise InputError(f"{path}: unknown table {name!r}{hint}; tables: {', '.join(TABLES)}")
    return DataFile(path, name, fmt)


# ---- sources ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceColumn:
    """A column of a file: its name (as in the file), the SQL that reads it, its DuckDB type."""

    name: str
    expr: str
    type: str = "VARCHAR"


@dataclass
class Source:
    """A file as DuckDB sees it: a FROM clause, its columns and how its rows are numbered."""

    file: DataFile
    relation: str
    columns: list[SourceColumn]
    row_offset: int = 2  # row number = stage rowid + offset (CSV: header is row 1)
    row_expr: str | None = None  # or an explicit row-number expression of the relation
    empty_is_null: bool = False  # the reader already turns empty text into null (CSV does)
    cleanup: list[Callable[[], object]] = field(default_factory=list)
    skipped: int = 0  # rows a preset leaves out on purpose (deleted records, …)
    skip_reason: str | None = None

    def error(self, exc: Exception) -> InputError:
        """The one-line InputError for a DuckDB error raised while reading this file."""
        return InputError(f"{self.file.path}: {describe_read_error(self.file.format, exc)}")

    def close(self) -> None:
        for step in reversed(self.cleanup):
            step()
        self.cleanup.clear()


def open_source(con: duckdb.DuckDBPyConnection, file: DataFile, tag: str,
                encoding: str | None = None) -> Source:
    """The Source of one data file; `tag` names any helper relation it needs; `encoding` is
    the text files' codec (None: detected)."""
    if file.path.stat().st_size == 0:
        raise InputError(f"{file.path}: empty file")
    if file.format == "csv":
        source = _csv_source(con, file, tag, encoding)
    elif file.format == "json":
        source = _json_source(con, file, tag, encoding)
    else:
        reader = {"parquet": _parquet_source, "xlsx": _xlsx_source}[file.format]
        source = reader(con, file, tag)
    return source


def _utf8_copy(file: DataFile, codec: str) -> tuple[Path, list[Callable[[], object]]]:
    """The path DuckDB reads: the file itself, or a UTF-8 copy of it (with its cleanup)."""
    if enc.is_utf8(codec):
        return file.path, []
    try:
        copy = enc.transcode(file.path, codec)
    except UnicodeDecodeError as exc:
        raise InputError(f"{file.path}: not {codec} text ({exc.reason} at byte "
                         f"{exc.start}); pass the file's --encoding") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{file.path}: cannot read the file ({exc})") from None
    return copy, [lambda: copy.unlink(missing_ok=True)]


def unique_names(names: list[str], path: Path, *, rename: bool = False) -> list[str]:
    """Header names stripped; unnamed columns get an internal name; a repeated name is an error
    (or, with `rename`, as CRM exports repeat names, becomes `<name> (2)`)."""
    out, seen = [], set()
    for i, raw in enumerate(names):
        name = str(raw).strip().lstrip("\ufeff") if raw is not None else ""
        if not name:
            name = f"__fm_unnamed_{i}"
        n = 1
        while rename and name.lower() in seen:
            n += 1
            name = f"{str(raw).strip()} ({n})"
        if name.lower() in seen:
            raise InputError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name.lower())
        out.append(name)
    return out


# ---- CSV ----------------------------------------------------------------------------------------
def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")  # type: ignore[return-value]


def _header_line(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """The first line of a text file, decoded, and the file's codec (given or detected);
    empty files, and UTF-16 without `--encoding`, are errors."""
    try:
        with _open_binary(path) as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not (encoding or "").startswith("utf-16"):
        raise InputError(f"{path}: not UTF-8 text (it looks like UTF-16; save it as CSV UTF-8 "
                         "or pass --encoding utf-16)")
    codec = encoding or enc.sniff(head)
    try:
        text = enc.decode(head, codec) if not enc.is_utf8(codec) else None
    except UnicodeDecodeError:
        text = None  # the whole file is decoded (and checked) when it is transcoded
    if text is None:
        head = head.removeprefix(b"\xef\xbb\xbf")
        if not head.strip():
            raise InputError(f"{path}: empty file")
        line = head.split(b"\n", 1)[0].rstrip(b"\r")
        try:
            text = line.decode("utf-8") if enc.is_utf8(codec) else enc.decode(line, codec)
        except UnicodeDecodeError:
            raise InputError(f"{path}: not {codec} text in the header; pass the file's "
                             "--encoding") from None
    else:
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise InputError(f"{path}: empty file")
        text = text.split("\n", 1)[0].rstrip("\r")
    if not text.strip():
        raise InputError(f"{path}: the first line is empty; expected a header row")
    return text, codec


def choose_delimiter(header: str, preferred: str = ",") -> str:
    """The delimiter the header uses: the most frequent of , ; tab | outside quotes."""
    bare = re.sub(r'"[^"]*"', "", header)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(counts.values())
    if best == 0 or counts.get(preferred, 0) == best:
        return preferred
    return max(DELIMITERS, key=lambda d: counts[d])


def _csv_source(con: duckdb.DuckDBPyConnection, file: DataFile, tag: str,
                encoding: str | None = None) -> Source:
    header, codec = _header_line(file.path, encoding)
    preferred = "\t" if _base_suffix(file.path) == ".tsv" else ","
    delim = choose_delimiter(header, preferred)
    names = unique_names(header_fields(header, delim, file.path), file.path,
                         rename=file.view is not None)
    columns = "{" + ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    path, cleanup = _utf8_copy(file, codec)
    relation = (f"read_csv({sql_str(str(path))}, auto_detect=false, header=true, "
                f"delim={sql_str(delim)}, quote='\"', escape='\"', strict_mode=true, "
                f"columns={columns})")
    return Source(file, relation, [SourceColumn(n, ident(n)) for n in names], row_offset=2,
                  empty_is_null=True, cleanup=cleanup)


def describe_read_error(fmt: str, exc: Exception) -> str:
    """A DuckDB reader error as a short, user-facing explanation (no DuckDB hints)."""
    msg = str(exc)
    line = re.search(r"(?:CSV Error on Line|in line|line):? (\d+)", msg)
    where = f" on line {line.group(1)}" if line else ""
    if "unicode" in msg.lower() or "utf-8" in msg.lower():
        return f"not UTF-8 text{where} (save it as UTF-8)"
    if "unterminated quote" in msg:
        return f"unterminated quote{where} (is the file truncated?)"
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if columns:
        return (f"line {line.group(1) if line else '?'} has {columns.group(2)} fields, the header "
                f"has {columns.group(1)} (truncated file, or a wrong delimiter?)")
    if fmt == "json" and "Malformed JSON" in msg:
        detail = msg.split(":")[-1].strip().rstrip(".")
        return f"malformed JSON{where}: {detail} (is the file truncated?)"
    if fmt == "parquet":
        return "not a readable Parquet file (corrupt or truncated)"
    first = msg.splitlines()[0] if msg else type(exc).__name__
    return first.split("Error: ", 1)[-1]


# ---- Parquet ------------------------------------------------------------------------------------
def _parquet_source(con: duckdb.DuckDBPyConnection, file: DataFile, tag: str) -> Source:
    relation = f"read_parquet({sql_str(str(file.path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error:
        raise InputError(f"{file.path}: not a readable Parquet file (corrupt or "
                         "truncated)") from None
    names = unique_names([r[0] for r in described], file.path)
    columns = [SourceColumn(n, ident(r[0]), r[1]) for n, r in zip(names, described, strict=True)]
    return Source(file, relation, columns, row_offset=2)


# ---- JSON lines ---------------------------------------------------------------------------------
def _json_source(con: duckdb.DuckDBPyConnection, file: DataFile, tag: str,
                 encoding: str | None = None) -> Source:
    fmt = "auto" if _base_suffix(file.path) == ".json" else "newline_delimited"
    raw = f"__fm_json_{tag}"
    path, cleanup = _utf8_copy(file, encoding or "utf-8")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT json FROM "
                    f"read_json_objects({sql_str(str(path))}, format={sql_str(fmt)})")
    except duckdb.Error as exc:
        raise InputError(f"{file.path}: {describe_read_error('json', exc)}") from None
    finally:
        for step in cleanup:
            step()
    source = Source(file, raw, [], row_offset=1)
    source.cleanup.append(lambda: con.execute(f"DROP TABLE IF EXISTS {raw}"))
    bad = con.execute(f"SELECT rowid - (SELECT min(rowid) FROM {raw}) + 1 FROM {raw} "
                      "WHERE json_type(json) <> 'OBJECT' ORDER BY rowid LIMIT 1").fetchone()
    if bad:
        source.close()
        raise InputError(f"{file.path}: record {bad[0]} is not a JSON object")
    keys = con.execute(f"SELECT k FROM (SELECT unnest(json_keys(json)) AS k, rowid AS r "
                       f"FROM {raw}) GROUP BY k ORDER BY min(r), k").fetchall()
    names = unique_names([k[0] for k in keys], file.path)
    source.columns = [SourceColumn(n, f"(json ->> {sql_str('$.' + _json_path(k[0]))})")
                      for n, k in zip(names, keys, strict=True)]
    return source


def _json_path(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


# ---- XLSX ---------------------------------------------------------------------------------------
def _xlsx_source(con: duckdb.DuckDBPyConnection, file: DataFile, tag: str) -> Source:
    import pyarrow as pa

    header, rows, numbers = _xlsx_rows(file)
    names = unique_names(header, file.path, rename=file.view is not None)
    data = {f"c{i}": pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
            for i in range(len(names))}
    data["__fm_row"] = pa.array(numbers, pa.int64())
    view = f"__fm_xlsx_{tag}"
    con.register(view, pa.table(data))
    source = Source(file, view, [SourceColumn(n, f"c{i}") for i, n in enumerate(names)],
                    row_expr="__fm_row")
    source.cleanup.append(lambda: con.unregister(view))
    return source


def _xlsx_rows(file: DataFile) -> tuple[list[str], list[tuple[str | None, ...]], list[int]]:
    """Header, rows as text and spreadsheet row numbers of the table's sheet (or the first)."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(file.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file it cannot read
        raise InputError(f"{file.path}: not a readable XLSX workbook "
                         f"({type(exc).__name__})") from None
    try:
        sheet = book[file.table] if file.table in book.sheetnames else book.worksheets[0]
        header, rows, numbers = _sheet_rows(sheet.iter_rows(values_only=True))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{file.path}: not a readable XLSX workbook "
                         f"({type(exc).__name__})") from None
    finally:
        book.close()
    if header is None:
        raise InputError(f"{file.path}: empty file (no header row in sheet {sheet.title!r})")
    return header, rows, numbers


def xlsx_header(path: Path) -> list[str]:
    """The header of a workbook's first sheet (its first non-empty row), repeated names
    renamed as `csv_header` does."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file it cannot read
        raise InputError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        for cells in book.worksheets[0].iter_rows(values_only=True):
            texts = [cell_text(v) for v in cells]
            if any(t is not None for t in texts):
                return unique_names([t or "" for t in texts], path, rename=True)
    finally:
        book.close()
    raise InputError(f"{path}: empty file (no header row)")


def _sheet_rows(values: Iterable[tuple[object, ...]]
                ) -> tuple[list[str] | None, list[tuple[str | None, ...]], list[int]]:
    """The first non-empty row as header, then every non-empty row with its row number."""
    header: list[str] | None = None
    rows, numbers = [], []
    for number, cells in enumerate(values, start=1):
        texts = tuple(cell_text(v) for v in cells)
        if all(t is None for t in texts):
            continue
        if header is None:
            header = [t or "" for t in texts]
        else:
            rows.append(texts)
            numbers.append(number)
    return header, rows, numbers


def cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold (dates as ISO 8601)."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = str(value)
    return text if text.strip() else None
