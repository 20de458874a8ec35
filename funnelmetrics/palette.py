"""One colour per value, the same on every page, chart and report: `paid_search` is the same
orange in the Marketing page's bars, the attribution chart, a funnel split by source and a PDF
review. A colour is keyed by the value (a channel, a segment, a stage, a model), never by its
position in one chart, so that a filter that removes a series does not repaint the others.

Known values have fixed colours (the channels of SPEC §2's demo data and the attribution
models); any other value gets one of the palette's colours from a stable hash of its text
(CRC-32: the same in every process, unlike `hash()`). No imports beyond the standard library:
surfaces and reports both use it.
"""

from __future__ import annotations

import zlib

# Ten colours that stay apart for the common forms of colour blindness (Tableau 10's hues,
# darkened for contrast on white).
COLORS: tuple[str, ...] = ("#2563eb", "#ea580c", "#16a34a", "#dc2626", "#9333ea", "#0891b2",
                           "#ca8a04", "#db2777", "#4b5563", "#65a30d")
BLUE, ORANGE, GREEN, RED, PURPLE, TEAL, OCHRE, PINK, GREY, OLIVE = COLORS
UNKNOWN = "#9ca3af"  # "(unknown)", "(no touch)", "(unallocated)": a light grey

FIXED: dict[str, str] = {
    # channels / sources
    "organic": GREEN, "paid_search": ORANGE, "paid_social": BLUE, "email": PURPLE,
    "referral": TEAL, "partner": OCHRE, "events": PINK, "outbound": GREY, "direct": OLIVE,
    "display": RED,
    # attribution models
    "first_touch": BLUE, "last_touch": ORANGE, "linear": GREEN, "time_decay": RED,
    "position_based": PURPLE, "w_shaped": TEAL, "markov": OCHRE, "shapley": PINK,
    # segments
    "SMB": BLUE, "Mid-Market": ORANGE, "Enterprise": GREEN,
}


def color(value: object) -> str:
    """The colour of a value (case-insensitive for the fixed ones).

    >>> color("paid_search") == color("Paid_Search") == ORANGE
    True
    >>> color("(unknown)") == UNKNOWN
    True
    >>> color("north-east") == color("north-east")  # stable across calls and processes
    True
    """
    text = "" if value is None else str(value)
    if text.startswith("(") and text.endswith(")") or text == "":
        return UNKNOWN
    fixed = FIXED.get(text) or _LOWER.get(text.lower())
    if fixed:
        return fixed
    return COLORS[zlib.crc32(text.encode("utf-8")) % len(COLORS)]


def colors(values: list[object]) -> list[str]:
    """The colour of each value, in order."""
    return [color(v) for v in values]


_LOWER = {k.lower(): v for k, v in FIXED.items()}
