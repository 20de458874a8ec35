"""Ibis's SQL compilers imported one by one (`funnelmetrics.lazyibis`, issue "Fast and clear":
start-up): a DuckDB workspace loads DuckDB's compiler only, and the package still gives every
compiler, by class name and by submodule, as Ibis's own `__init__` does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from funnelmetrics import lazyibis

PROBE = r"""
import json, sys
import funnelmetrics
ws = funnelmetrics.open(sys.argv[1])
rows = ws.metric("leads_created", grain="all")
loaded = sorted(m for m in sys.modules if m.startswith("ibis.backends.sql.compilers."))
import ibis.backends.sql.compilers as sc
classes = {name: getattr(sc, name).__module__ for name in sc.__all__}
from ibis.backends.sql.compilers import PostgresCompiler, RisingWaveCompiler
print(json.dumps({"loaded": loaded, "all": sc.__all__, "classes": classes,
                  "dir": sorted(set(sc.__all__) - set(dir(sc))),
                  "duckdb": sc.duckdb.compiler.__class__.__name__,
                  "postgres": PostgresCompiler.__name__, "rows": len(rows)}))
"""


def test_a_duckdb_workspace_loads_duckdbs_compiler_only(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    import funnelmetrics

    funnelmetrics.open(db).close()
    out = subprocess.run([sys.executable, "-c", PROBE, str(db)], capture_output=True,
                         text=True, check=True)
    got = json.loads(out.stdout)
    assert got["loaded"] == ["ibis.backends.sql.compilers._compat",
                             "ibis.backends.sql.compilers.base",
                             "ibis.backends.sql.compilers.duckdb"]
    # and yet the package is Ibis's: every class its __init__ imports, from its submodule
    import ibis.backends.sql.compilers as real_package

    text = Path(real_package.__file__).read_text(encoding="utf-8")
    wanted = dict(re.findall(r"^from ibis\.backends\.sql\.compilers\.(\w+) import (\w+)$", text,
                             re.M))
    assert len(wanted) == 20
    assert got["all"] == sorted(wanted.values())
    assert got["classes"] == {cls: f"ibis.backends.sql.compilers.{mod}"
                              for mod, cls in wanted.items()}
    assert got["dir"] == [] and got["duckdb"] == "DuckDBCompiler"
    assert got["postgres"] == "PostgresCompiler" and got["rows"] == 1


def test_another_layout_is_imported_as_written(tmp_path: Path) -> None:
    """An `__init__` holding anything but its submodules' imports: the finder steps aside."""
    finder = lazyibis._Finder()
    plain = tmp_path / "plain" / "compilers"
    plain.mkdir(parents=True)
    (plain / "__init__.py").write_text(
        "from __future__ import annotations\n\n__all__ = [\n    \"ACompiler\",\n]\n\n"
        "from ibis.backends.sql.compilers.a import ACompiler\n")
    spec = finder.find_spec(lazyibis.PACKAGE, [str(plain.parent)])
    assert spec is not None and isinstance(spec.loader, lazyibis._Loader)
    assert spec.loader.names == {"ACompiler": "a"}
    assert spec.submodule_search_locations == [str(plain)]
    other = tmp_path / "other" / "compilers"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text(
        "from ibis.backends.sql.compilers.a import ACompiler\nREGISTRY = {}\n")
    assert finder.find_spec(lazyibis.PACKAGE, [str(other.parent)]) is None
    assert finder.find_spec("ibis.backends.sql", [str(plain.parent)]) is None
