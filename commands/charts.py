"""The ledger chart (SPEC §13): commissions, clawbacks and payments per month, one panel per
currency, as a PNG.

matplotlib is imported here and nowhere else, so no other command pays its start-up. It draws on
its Agg canvas directly (no pyplot, no display, no global figure state), which is safe in the
Slack app's worker threads.
"""

from __future__ import annotations

import io
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from domain.ledger import MonthActivity
from domain.money import format_display

# Okabe and Ito's palette, told apart with every common colour-vision deficiency
# (https://jfly.uni-koeln.de/color/); the bars also differ in hatching, for greyscale prints.
SERIES = (("Commissions", "#0072B2", ""), ("Clawbacks", "#D55E00", "//"), ("Payments", "#009E73", ".."))
WIDTH_INCHES = 10.0  # 1,000 pixels at DPI: Slack's preview scales it down to about a third, still legible
PANEL_INCHES = 3.6
DPI = 100
FONT_SIZE = 13


def draw_chart(activity: dict[str, list[MonthActivity]], title: str) -> bytes:
    """The PNG of `activity` (months in order, the same months for every currency)."""
    currencies = sorted(activity)
    figure = Figure(figsize=(WIDTH_INCHES, PANEL_INCHES * len(currencies) + 0.8), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=FONT_SIZE + 2)
    for index, currency in enumerate(currencies):
        _panel(figure.add_subplot(len(currencies), 1, index + 1), currency, activity[currency])
    figure.axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=FONT_SIZE - 2,
                          frameon=False, borderaxespad=0.2)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Title": title, "Description": _description(currencies)})
    return out.getvalue()


def _panel(axes, currency: str, months: list[MonthActivity]) -> None:  # type: ignore[no-untyped-def]
    """Three bars a month; the amount axis reads in the currency's own format."""
    width = 0.27
    positions = range(len(months))
    for offset, ((label, colour, hatch), values) in enumerate(zip(SERIES, _series(months), strict=True)):
        axes.bar([p + (offset - 1) * width for p in positions], values, width, label=label, color=colour,
                 hatch=hatch, edgecolor="white", linewidth=0.5)
    axes.set_title(currency, loc="left", fontsize=FONT_SIZE, fontweight="bold")
    labels = [_month_label(month.month, index == 0, short_year=len(months) > 12) for index, month in enumerate(months)]
    axes.set_xticks(list(positions), labels, fontsize=FONT_SIZE - 2)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda position, _: amount_label(round(position), currency)))
    axes.tick_params(axis="y", labelsize=FONT_SIZE - 2)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)


def amount_label(minor: int, currency: str) -> str:
    """A tick of the amount axis (the bars are drawn in minor units, so are the ticks, which the
    locator keeps whole) as the currency's amount: '$1,500.00', '¥500,000'."""
    return format_display(minor, currency)


def _description(currencies: list[str]) -> str:
    """The PNG's own text says which panels it holds, for screen readers and for anyone checking the file."""
    return f"One panel per currency: {', '.join(currencies)}"


def _series(months: list[MonthActivity]) -> tuple[list[int], list[int], list[int]]:
    return ([m.commissions for m in months], [m.clawbacks for m in months], [m.payments for m in months])


def _month_label(month: date, first: bool, *, short_year: bool) -> str:
    """'Jun', with the year beneath on the first month and on every January ('’15' when 24 labels
    share the axis, so neighbouring years do not touch)."""
    if not first and month.month != 1:
        return month.strftime("%b")
    return month.strftime("%b\n’%y" if short_year else "%b\n%Y")
