"""Small bar charts as inline SVG, drawn on the server: no JavaScript, no outside files.

Contract: each function returns escaped, self-contained ``<svg>`` markup
(``Markup``) with an ``aria-label`` and a ``<title>`` per bar (the browser
shows it on hover), using presentation attributes only, so the page's
Content-Security-Policy needs no inline styles. Colours are the Okabe-Ito
palette, which stays distinguishable with colour blindness.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#000000")
FONT = 'font-family="system-ui, sans-serif" font-size="12" fill="#333"'


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def column_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    height: int = 260,
    label_every: int = 5,
    legend: bool | None = None,
) -> Markup:
    """Vertical bars, one per label, the series stacked; a legend when asked or when there are several."""
    legend = len(series) > 1 if legend is None else legend
    left, right, top, bottom = 44, 10, 12, 40 + (18 if legend else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" {FONT}>{escape(_num(peak))}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" {FONT}>0</text>',
    ]
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for s, (name, values) in enumerate(series):
            value = values[i]
            if value <= 0:
                continue
            h = value / peak * plot_h
            y -= h
            tip = f"{label}: {name + ' ' if legend else ''}{_num(value)}{unit}"
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
        if i % label_every == 0 or i == len(labels) - 1:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" {FONT}>'
                f"{escape(label)}</text>"
            )
    if legend:
        lx = left
        for s, (name, _) in enumerate(series):
            colour = PALETTE[s % len(PALETTE)]
            out.append(
                f'<rect x="{lx}" y="{height - 14}" width="12" height="12" fill="{colour}"/>'
                f'<text x="{lx + 16}" y="{height - 4}" {FONT}>{escape(name)}</text>'
            )
            lx += 24 + 8 * len(name)
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 760) -> Markup:
    """Horizontal bars, one per (label, value), largest first as given."""
    row, left, right = 26, 180, 60
    height = max(row * len(items), row) + 8
    peak = max((v for _, v in items), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = value / peak * (width - left - right)
        out.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" {FONT}>{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}">'
            f"<title>{escape(f'{label}: {_num(value)}{unit}')}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 16}" {FONT}>{escape(_num(value) + unit)}</text>'
        )
    if not items:
        out.append(f'<text x="{left}" y="18" {FONT}>Nothing to show yet.</text>')
    out.append("</svg>")
    return Markup("".join(out))
