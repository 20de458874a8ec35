"""Bar charts drawn as inline SVG (no script, no external file: the HTML opens offline and
prints as drawn). Labels and value axes are formatted in the reader's language."""

from __future__ import annotations

from html import escape

WIDTH, BAR, GAP, LABEL_W, VALUE_W = 640, 18, 6, 170, 130


def bar_chart(labels: list[str], values: list[float | None], shown: list[str],
              title: str) -> str:
    """Horizontal bars, one per label, from a zero line (negative values to its left);
    `shown` is each value as text (localised), written beside its bar."""
    kept = [(lbl, v, s) for lbl, v, s in zip(labels, values, shown, strict=True)
            if v is not None]
    if not kept:
        return ""
    low = min(0.0, *(v for _, v, _ in kept))
    high = max(0.0, *(v for _, v, _ in kept))
    span = (high - low) or 1.0
    plot = WIDTH - LABEL_W - VALUE_W
    zero = LABEL_W + plot * (-low / span)
    height = len(kept) * (BAR + GAP) + 28
    parts = [f'<svg role="img" width="{WIDTH}" '
             f'height="{height}" viewBox="0 0 {WIDTH} {height}" class="chart">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for i, (label, value, text) in enumerate(kept):
        y = 24 + i * (BAR + GAP)
        x0, x1 = sorted((zero, zero + plot * value / span))
        tone = "neg" if value < 0 else "pos"
        parts += [
            f'<text x="{LABEL_W - 6}" y="{y + BAR - 5}" text-anchor="end">'
            f"{escape(label[:28])}</text>",
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{BAR}" '
            f'class="{tone}"/>',
            f'<text x="{LABEL_W + plot + 6}" y="{y + BAR - 5}">{escape(text)}</text>']
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="20" y2="{height - 4}" '
                 'class="axis"/>')
    parts.append("</svg>")
    return "".join(parts)
