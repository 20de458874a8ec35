"""Reading numbers written with a decimal comma or thousands separators (`--decimal`).

Without `--decimal` a number is plain (`1234.5`, `-3`, `1e3`): `1,234` could be either, so it
is rejected, never guessed. `--decimal ,` reads `1.234.567,00`, `1 234,5` and `12,5`;
`--decimal .` reads `1,234,567.00` as well as plain numbers. Separators must group by three
digits, so `1.5` under `--decimal ,` is rejected rather than read as 15.
"""

from __future__ import annotations

from funnelmetrics.ingest.readers import sql_str

NBSP = "\u00a0"
# the whole number: sign, digits grouped by threes (or not at all), decimals
GROUPED = {
    ",": rf"[+-]?(\d{{1,3}}([. {NBSP}']\d{{3}})+|\d+)(,\d+)?",
    ".": r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?",
}


def number_sql(text: str, decimal: str | None) -> str:
    """SQL reading `text` as a DOUBLE under the decimal mark (null when it is not a number)."""
    if decimal is None:
        return f"TRY_CAST({text} AS DOUBLE)"
    t = f"trim({text})"
    grouped = f"regexp_full_match({t}, {sql_str(GROUPED[decimal])})"
    if decimal == ".":
        return (f"coalesce(TRY_CAST({text} AS DOUBLE), CASE WHEN {grouped} THEN "
                f"TRY_CAST(replace({t}, ',', '') AS DOUBLE) END)")
    bare = t
    for sep in (".", " ", NBSP, "'"):
        bare = f"replace({bare}, {sql_str(sep)}, '')"
    return f"CASE WHEN {grouped} THEN TRY_CAST(replace({bare}, ',', '.') AS DOUBLE) END"
