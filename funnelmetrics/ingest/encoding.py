"""Text encodings of CSV and JSON files: UTF-8 (with or without a BOM) is read as it is; a file
in another encoding — given with `--encoding`, or detected when its bytes are not UTF-8 — is
transcoded to a temporary UTF-8 copy that DuckDB reads.

Detection knows UTF-8 and Windows-1252 (the usual non-UTF-8 export, a superset of Latin-1 for
printable text; its five unassigned bytes are read as Latin-1). UTF-16 needs `--encoding utf-16`.
"""

from __future__ import annotations

import codecs
import gzip
import os
import tempfile
from pathlib import Path

UTF8 = ("utf-8", "utf-8-sig")
FALLBACK = "cp1252"
CHUNK = 16 << 20


def _latin1(exc: UnicodeError) -> tuple[str, int]:
    """Bytes Windows-1252 leaves unassigned (0x81, 0x8D, …) read as Latin-1."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


codecs.register_error("funnelmetrics-latin1", _latin1)


def is_utf8(codec: str) -> bool:
    return codecs.lookup(codec).name in UTF8


def sniff(head: bytes) -> str:
    """`utf-8` when the first bytes of a file are UTF-8 (a BOM allowed), else `cp1252`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head.removeprefix(codecs.BOM_UTF8), final=False)
    except UnicodeDecodeError:
        return FALLBACK
    return "utf-8"


def decode(data: bytes, codec: str) -> str:
    errors = "funnelmetrics-latin1" if codecs.lookup(codec).name == FALLBACK else "strict"
    return data.decode(codec, errors=errors)


def transcode(path: Path, codec: str) -> Path:
    """A temporary UTF-8 copy of a text file (the caller removes it); gzip is decompressed."""
    errors = "funnelmetrics-latin1" if codecs.lookup(codec).name == FALLBACK else "strict"
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    fd, name = tempfile.mkstemp(prefix="funnelmetrics-", suffix=path.suffix.removesuffix(".gz")
                                or ".csv")
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
