"""The catalogue as Markdown, for the README (`python -m funnelmetrics.catalog.docs README.md`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from funnelmetrics.catalog import all_metrics

START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def markdown(lang: str = "en") -> str:
    """One row per metric: id, name, kind, unit, better, definition."""
    lines = ["| id | metric | kind | unit | better | definition |", "|---|---|---|---|---|---|"]
    for m in all_metrics():
        params = f" Parameters: {', '.join(f'`{p.name}`' for p in m.params)}." if m.params else ""
        lines.append(f"| `{m.id}` | {m.name(lang)} | {m.kind.value.replace('_', ' ')} | "
                     f"{m.unit.value} | "
                     f"{'higher' if m.higher_is_better else 'lower'} | "
                     f"{m.description(lang)}{params} |")
    return "\n".join(lines)


def update(readme: Path) -> bool:
    """Rewrite the metric table between the markers; True when the file changed."""
    text = readme.read_text(encoding="utf-8")
    block = f"{START}\n{markdown()}\n{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    update(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
