"""The report's charts: inline SVG, drawn on the server, the same on screen and in the PDF.

Each chart is an image for assistive technologies (role="img", a <title> and a <desc> that
says every value in words) and is always followed in the report by a table of its data.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from patrimoine.report.figures import Figure

WIDTH = 640
LABEL_WIDTH = 250
VALUE_WIDTH = 90
ROW = 24
BAR = 16
COLUMN_AREA = 150
COLOURS = ("#000091", "#6a6af4", "#009081", "#c9191e", "#b34000", "#716043")


def number(value: int | float | None, unit: str = "") -> str:
    """A French number: thin spaces between thousands, a decimal comma; bytes in Mo or Go."""
    if value is None:
        return "non calculé"
    if unit == "octets":
        for size, name in ((1024 ** 3, "Go"), (1024 ** 2, "Mo"), (1024, "ko")):
            if abs(value) >= size:
                return number(round(value / size, 1)) + f"\u202f{name}"
        return number(int(value)) + "\u202fo"
    digits = 0 if float(value).is_integer() else 1
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def unit_of(value: int | float | None, unit: str) -> str:
    """The unit as French writes it after the value: singular for 0 and 1 (bytes carry theirs
    in `number`)."""
    if unit == "octets" or value is None:
        return ""
    if abs(value) < 2 and unit.endswith("s"):
        return "jeu de données" if unit == "jeux de données" else unit[:-1]
    return unit


def _description(pairs: list[tuple[str, int | float]], unit: str) -> str:
    return "; ".join(f"{name} : {number(v, unit)}" for name, v in pairs) + "."


def _frame(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{body}</svg>')


def breakdown_chart(figure: Figure) -> Markup:
    """Horizontal bars, one per line of the figure's breakdown."""
    pairs = figure.breakdown
    top = max((float(v) for _, v in pairs), default=0.0) or 1.0
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = []
    for i, (name, value) in enumerate(pairs):
        y = 6 + i * ROW
        width = max(1.0, area * float(value) / top) if value else 0.0
        short = name if len(name) <= 38 else name[:37] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 4}" text-anchor="end" '
            f'font-size="12" fill="#161616">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR - 4}" font-size="12" '
            f'fill="#161616">{escape(number(value, figure.unit))}</text>')
    height = 12 + ROW * len(pairs)
    return _frame(f"g-{figure.key.replace('.', '-')}-r", f"{figure.title} : répartition",
                  _description(pairs, figure.unit), WIDTH, height, "".join(parts))


def years_chart(figure: Figure) -> Markup:
    """Columns, one per year, the report's year last."""
    pairs = [(str(y), v) for y, v in figure.years]
    top = max((float(v) for _, v in pairs), default=0.0) or 1.0
    column = 70
    gap = 40
    width = max(WIDTH // 2, 40 + len(pairs) * (column + gap))
    base = 20 + COLUMN_AREA
    parts = [f'<line x1="20" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#666"/>']
    for i, (year, value) in enumerate(pairs):
        x = 30 + i * (column + gap)
        height = COLUMN_AREA * float(value) / top if value else 0.0
        colour = COLOURS[0] if i == len(pairs) - 1 else COLOURS[1]
        parts.append(
            f'<rect x="{x}" y="{base - height:.1f}" width="{column}" height="{height:.1f}" '
            f'fill="{colour}"/>'
            f'<text x="{x + column / 2}" y="{base - height - 5:.1f}" text-anchor="middle" '
            f'font-size="12" fill="#161616">{escape(number(value, figure.unit))}</text>'
            f'<text x="{x + column / 2}" y="{base + 16}" text-anchor="middle" font-size="12" '
            f'fill="#161616">{year}</text>')
    return _frame(f"g-{figure.key.replace('.', '-')}-a", f"{figure.title} par année",
                  _description(pairs, figure.unit), width, base + 26, "".join(parts))
