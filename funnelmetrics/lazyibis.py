"""Ibis's SQL compilers, each imported when first used.

`ibis.backends.sql.compilers` imports all twenty of Ibis's SQL compilers (Athena, BigQuery,
Trino, …) as soon as one backend is used: 90 ms of every command's start on this machine, of
which DuckDB's own compiler is 20 ms. Its `__init__` is nothing but those imports; this module
puts a finder first on `sys.meta_path` that gives the package a module of the same contents —
its `__path__`, its `__all__`, every compiler class and submodule — each imported on first
access (PEP 562's module `__getattr__`). `import ibis.backends.sql.compilers as sc; sc.duckdb`,
`from ibis.backends.sql.compilers import PostgresCompiler` and `import …compilers.trino` all
work as before.

The names are read from the installed package's own `__init__.py`; if it holds anything but
`__all__` and imports of its submodules (another Ibis version), the finder steps aside and the
package is imported as Ibis wrote it. Installing the finder imports nothing.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "ibis.backends.sql.compilers"
_IMPORT = re.compile(rf"^from {re.escape(PACKAGE)}\.(\w+) import (\w+)$")


def _names(init: Path) -> dict[str, str] | None:
    """{class name: submodule} from the package's `__init__.py`, or None when it holds more
    than `__all__`, the imports of its submodules, blank lines and the future import."""
    try:
        text = init.read_text(encoding="utf-8")
    except OSError:
        return None
    body = re.sub(r"^__all__ = \[[^\]]*\]$", "", text, flags=re.M | re.S)
    names: dict[str, str] = {}
    for line in body.splitlines():
        line = line.strip()
        if not line or line == "from __future__ import annotations":
            continue
        found = _IMPORT.match(line)
        if found is None:
            return None
        names[found.group(2)] = found.group(1)
    return names or None


class _Loader:  # importlib.abc.Loader's protocol (importing importlib.abc costs)
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        names = self.names
        module.__all__ = sorted(names)  # type: ignore[attr-defined]

        def __getattr__(name: str) -> Any:
            if name in names:
                value = getattr(importlib.import_module(f"{PACKAGE}.{names[name]}"), name)
                setattr(module, name, value)
                return value
            if name.isidentifier() and not name.startswith("_"):
                try:  # a submodule (`sc.duckdb`): importing sets it on the package
                    return importlib.import_module(f"{PACKAGE}.{name}")
                except ModuleNotFoundError:
                    pass
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

        def __dir__() -> list[str]:
            return sorted({*module.__dict__, *names})

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        module.__dir__ = __dir__  # type: ignore[attr-defined]


class _Finder:  # importlib.abc.MetaPathFinder's protocol
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is None or real.origin is None or not real.submodule_search_locations:
            return None
        names = _names(Path(real.origin))
        if names is None:
            return None  # not the layout this module knows: Ibis's own import
        spec = importlib.machinery.ModuleSpec(fullname, _Loader(names), origin=real.origin,
                                              is_package=True)
        spec.submodule_search_locations = list(real.submodule_search_locations)
        spec.has_location = True
        return spec


def install() -> None:
    """Put the finder first on `sys.meta_path` (once; nothing happens if the package is
    imported already)."""
    if PACKAGE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
