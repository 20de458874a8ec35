"""Response bodies built once and served many times, gzipped once.

A `Body` (JSON of a cached result) keeps its bytes and their gzip. A `Page` (a rendered dashboard
page) is the same for every request of a user, but for the browser's CSRF token in its forms:
the page is rendered with a marker where the token goes, split there, and each part deflated
once; a request's page is the parts joined by its token, and its gzip the deflated parts joined
by the token as a stored (uncompressed) deflate block, so no request compresses the page again.
"""

from __future__ import annotations

import json
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from markupsafe import escape

GZIP_LEVEL = 6
MIN_GZIP = 1024  # as the GZipMiddleware: smaller bodies go as they are
# gzip member header (RFC 1952): magic, deflate, no flags, no mtime, no extra flags, unknown OS
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
CSRF_MARK = f"fm-csrf-{secrets.token_hex(16)}"  # where a page's CSRF token goes
HTML = "text/html; charset=utf-8"


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def _deflate(data: bytes, *, last: bool) -> bytes:
    """Raw deflate of `data`: the last part finishes the stream; the others end with a full
    flush (byte-aligned, nothing after refers back), so parts and stored blocks concatenate."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def _gzip(parts: tuple[bytes, ...], packed: tuple[bytes, ...], filler: bytes) -> bytes:
    """The gzip of `filler.join(parts)` from the parts' deflated forms."""
    stored = b"\x00" + struct.pack("<HH", len(filler), len(filler) ^ 0xFFFF) + filler
    crc = 0
    for i, part in enumerate(parts):
        if i:
            crc = zlib.crc32(filler, crc)
        crc = zlib.crc32(part, crc)
    size = sum(map(len, parts)) + len(filler) * (len(parts) - 1)
    return GZIP_HEADER + stored.join(packed) + struct.pack("<II", crc, size & 0xFFFFFFFF)


@dataclass(frozen=True)
class Body:
    """A response body and its gzip (None when too small to be worth it)."""

    data: bytes
    media_type: str = "application/json"
    packed: bytes | None = None

    @classmethod
    def of(cls, data: bytes, media_type: str = "application/json") -> Body:
        packed = None
        if len(data) >= MIN_GZIP:
            packed = GZIP_HEADER + _deflate(data, last=True) + struct.pack(
                "<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
        return cls(data, media_type, packed)

    @classmethod
    def json(cls, value: Any) -> Body:
        return cls.of(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())

    def response(self, request: Request, status_code: int = 200) -> Response:
        if self.packed is None:
            return Response(self.data, status_code, media_type=self.media_type)
        if accepts_gzip(request):  # (else the GZipMiddleware adds the Vary header)
            return Response(self.packed, status_code,
                            {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
                            self.media_type)
        return Response(self.data, status_code, media_type=self.media_type)


@dataclass(frozen=True)
class Page:
    """A rendered page split where its CSRF token goes, each part also deflated."""

    parts: tuple[bytes, ...]
    packed: tuple[bytes, ...]

    @classmethod
    def of(cls, html: str) -> Page:
        parts = tuple(html.encode().split(CSRF_MARK.encode()))
        last = len(parts) - 1
        return cls(parts, tuple(_deflate(p, last=i == last) for i, p in enumerate(parts)))

    def response(self, request: Request, csrf: str, status_code: int = 200) -> Response:
        token = str(escape(csrf)).encode()
        if accepts_gzip(request) and sum(map(len, self.parts)) >= MIN_GZIP \
                and len(token) <= 0xFFFF:
            return Response(_gzip(self.parts, self.packed, token), status_code,
                            {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}, HTML)
        return Response(token.join(self.parts), status_code, media_type=HTML)
