"""The /stats chart: questions a day (bars) and the share that found nothing (a line, on its own
axis) over the last 30 days, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, safe in a worker
thread). The labels are ASCII (dates, numbers, "%"), so no CJK font is needed: the Chinese words
are in the caption sent with the picture (bot.core.stats.chart_caption).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.core.stats import Day

WIDTH, HEIGHT, DPI = 9.0, 4.0, 110
BAR_COLOUR = "#4c78a8"
LINE_COLOUR = "#e45756"


def render_chart(days: Sequence[Day]) -> bytes:
    """The chart of `days` (oldest first) as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    bars = figure.add_subplot(1, 1, 1)
    positions = list(range(len(days)))
    bars.bar(positions, [d.asked for d in days], color=BAR_COLOUR, width=0.8, label="questions")
    bars.set_ylabel("questions / day")
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.set_ylim(bottom=0)
    step = max(1, len(days) // 10)
    bars.set_xticks(positions[::step], [d.date.strftime("%m-%d") for d in days][::step])
    bars.set_xlim(-0.6, len(days) - 0.4)
    share = bars.twinx()
    # Days without questions have no share: the line breaks there instead of dropping to 0 %.
    shares = [d.unanswered_share * 100 if d.asked else float("nan") for d in days]
    share.plot(positions, shares, color=LINE_COLOUR, marker="o", markersize=3, linewidth=1.5, label="unanswered")
    share.set_ylim(0, 100)
    share.yaxis.set_major_formatter(PercentFormatter())
    share.set_ylabel("unanswered")
    bars.set_title(f"last {len(days)} days")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
