"""Figures for the dashboard pages, read from the roll-up tables only, with disclosure control.

Statistical disclosure control: for users who see numbers only (analysts, the board),
a count from 1 to 4 is shown as "<5", and a percentage or ratio built on such a count
(numerator or denominator) is not shown at all, nor is a change between quarters when
either quarter's figure is hidden. Zero is not disclosive and is shown. In a mix (RAG status, say) a second category is
hidden when one alone would let the hidden figure be worked out from the total.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from cases.models import Agency, Area, Cohort, Offender

from .measures import COUNT, MIX, RATE, RATIO
from .models import Dimension, RollupRun, RollupValue
from .periods import Quarter, reporting_quarters
from .rollup import AGE_BANDS

SMALL_NUMBER_LIMIT = 5
SMALL_NUMBER_TEXT = "<5"
SUPPRESSED_TEXT = "Not shown"
TREND_QUARTERS = 8


def suppresses_small_numbers(user):
    """Users who may not see people get small numbers hidden."""
    return not user.sees_people


def is_small(count):
    return count is not None and 0 < count < SMALL_NUMBER_LIMIT


def _round(value, places):
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass
class Cell:
    """One figure as shown: `text` for people, `value` for charts (None when hidden or empty)."""

    text: str
    value: float | None
    hidden: bool = False
    count: int | None = None  # the underlying count, for drill-down links (None when hidden)
    url: str = ""  # drill-down to the people behind the figure, for roles that may see them


def count_cell(count, suppress):
    if suppress and is_small(count):
        return Cell(SMALL_NUMBER_TEXT, None, hidden=True)
    return Cell(f"{count:,}", float(count), count=count)


def rate_cell(numerator, denominator, suppress, *, percent=True):
    if not denominator:
        return Cell("No one to measure" if percent else "None", None)
    if suppress and (is_small(numerator) or is_small(denominator)):
        return Cell(SUPPRESSED_TEXT, None, hidden=True)
    if percent:
        value = _round(Decimal(numerator) * 100 / Decimal(denominator), 1)
        return Cell(f"{value}%", float(value), count=numerator)
    value = _round(Decimal(numerator) / Decimal(denominator), 2)
    return Cell(f"{value}", float(value), count=numerator)


def change_text(current, previous, kind):
    """Change on the previous quarter, in words a board member reads at a glance."""
    if current.value is None or previous.value is None or current.hidden or previous.hidden:
        return ""
    difference = current.value - previous.value
    if kind == RATE:
        if abs(difference) < 0.05:
            return "No change"
        return f"{'Up' if difference > 0 else 'Down'} {abs(difference):.1f} percentage points"
    if kind == RATIO:
        if abs(difference) < 0.005:
            return "No change"
        return f"{'Up' if difference > 0 else 'Down'} {abs(difference):.2f}"
    if difference == 0:
        return "No change"
    text = f"{'Up' if difference > 0 else 'Down'} {abs(int(difference)):,}"
    if previous.value:
        text += f" ({abs(difference) * 100 / previous.value:.0f}%)"
    return text


@dataclass
class SliceChoice:
    dimension: str
    key: str
    label: str


def slice_options():
    """Every slice a user may filter by: {dimension: [(key, label), ...]} (two queries)."""
    return {
        Dimension.AREA: [(str(pk), name) for pk, name in Area.objects.values_list("pk", "name")],
        Dimension.AGENCY: [(str(pk), name) for pk, name in Agency.objects.values_list("pk", "name")],
        Dimension.COHORT: list(Cohort.choices),
        Dimension.GENDER: list(Offender.Gender.choices),
        Dimension.AGE_BAND: list(AGE_BANDS),
        Dimension.ETHNICITY: list(Offender.Ethnicity.choices),
    }


@dataclass
class MeasureFigures:
    """A measure's figures for a run of quarters and one slice."""

    measure: object
    quarters: list
    selected: Quarter
    suppress: bool
    raw: dict = field(default_factory=dict)  # (category, quarter start) -> (numerator, denominator)

    def _raw(self, quarter, category=""):
        return self.raw.get((category, quarter.start), (0, 0))

    def cell(self, quarter, category=None):
        """The headline figure of the measure, or one category of a mix, for a quarter."""
        kind = self.measure.kind
        if kind == COUNT:
            return count_cell(self._raw(quarter)[0], self.suppress)
        if kind in {RATE, RATIO}:
            numerator, denominator = self._raw(quarter)
            return rate_cell(numerator, denominator, self.suppress, percent=kind == RATE)
        if category is None:
            return count_cell(self.total(quarter), self.suppress)
        return self.mix_cells(quarter)[category]

    def mix_cells(self, quarter):
        """A mix's category cells, with complementary suppression.

        When exactly one category is hidden and the total is shown, the hidden one could
        be worked out by subtraction, so the next smallest category is hidden as well.
        """
        counts = {key: self._raw(quarter, key)[0] for key, _ in self.measure.categories}
        cells = {key: count_cell(count, self.suppress) for key, count in counts.items()}
        hidden = [key for key, cell in cells.items() if cell.hidden]
        if self.suppress and len(hidden) == 1 and not is_small(self.total(quarter)):
            others = [(count, key) for key, count in counts.items() if key not in hidden and count > 0]
            if others:
                _, partner = min(others)
                cells[partner] = Cell(SUPPRESSED_TEXT, None, hidden=True)
        return cells

    def total(self, quarter):
        return sum(self._raw(quarter, key)[0] for key, _ in self.measure.categories)

    def share(self, quarter, category):
        """A category's share of the mix, as a percentage cell (hidden around small numbers)."""
        if self.mix_cells(quarter)[category].hidden:
            return Cell(SUPPRESSED_TEXT, None, hidden=True)
        return rate_cell(self._raw(quarter, category)[0], self.total(quarter), self.suppress)

    def denominator_cell(self, quarter):
        return count_cell(self._raw(quarter)[1], self.suppress)

    @property
    def headline(self):
        return self.cell(self.selected)

    @property
    def previous(self):
        return self.cell(self.selected.previous())

    @property
    def change(self):
        return change_text(self.headline, self.previous, self.measure.kind)

    def is_provisional(self, quarter):
        """The figure can still change: the quarter (plus any follow-up the measure needs) is not over."""
        final_on = quarter.end + timezone.timedelta(days=self.measure.maturity_days)
        return final_on >= timezone.localdate()

    @property
    def selected_provisional(self):
        return self.is_provisional(self.selected)

    @property
    def is_mix(self):
        return self.measure.kind == MIX

    def table(self, link=None):
        """The chart's data as a table: header row and rows of cells, oldest quarter first.

        `link(quarter, category, part)` gives the drill-down address of a figure, or None.
        """
        kind = self.measure.kind

        def linked(cell, quarter, category="", part="numerator"):
            if link and cell.count:
                cell.url = link(quarter, category, part) or ""
            return cell

        if kind == MIX:
            header = ["Quarter", *(label for _, label in self.measure.categories), "Total"]
            rows = [
                [quarter.short_label, *(linked(self.cell(quarter, key), quarter, key)
                                        for key, _ in self.measure.categories),
                 self.cell(quarter)]
                for quarter in self.quarters
            ]
        elif kind in {RATE, RATIO}:
            header = ["Quarter", self.measure.label, "Numerator", "Denominator"]
            rows = [
                [quarter.short_label, self.cell(quarter),
                 linked(count_cell(self._raw(quarter)[0], self.suppress), quarter),
                 linked(self.denominator_cell(quarter), quarter, part="denominator")]
                for quarter in self.quarters
            ]
        else:
            header = ["Quarter", self.measure.label]
            rows = [[quarter.short_label, linked(self.cell(quarter), quarter)] for quarter in self.quarters]
        for row, quarter in zip(rows, self.quarters, strict=True):
            if self.is_provisional(quarter):
                row[0] += " (provisional)"
        return header, rows


def trend_quarters(selected, count=TREND_QUARTERS):
    quarters = [selected]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    return sorted(quarters)


def load_figures(measures, selected, dimension, slice_key, suppress, quarters=None):
    """Every measure's figures for the trend up to `selected`, in one query of the roll-up table."""
    quarters = quarters or trend_quarters(selected)
    wanted = {quarter.start for quarter in quarters} | {selected.previous().start}
    rows = RollupValue.objects.filter(
        measure__in=[measure.name for measure in measures], period_start__in=wanted,
        dimension=dimension, slice_key=slice_key if dimension != Dimension.ALL else "",
    ).values_list("measure", "category", "period_start", "numerator", "denominator")
    raw = {measure.name: {} for measure in measures}
    for name, category, start, numerator, denominator in rows:
        raw[name][(category, start)] = (numerator, denominator or 0)
    return [
        MeasureFigures(measure, quarters, selected, suppress, raw[measure.name]) for measure in measures
    ]


def breakdown(measure, selected, dimension, suppress, options=None):
    """One measure for one quarter (and the one before, for the change) across every slice of a dimension."""
    options = dict((options or slice_options())[dimension])
    rows = RollupValue.objects.filter(
        measure=measure.name, period_start__in=[selected.start, selected.previous().start], dimension=dimension
    ).values_list("slice_key", "category", "period_start", "numerator", "denominator")
    raw = {}
    for slice_key, category, start, numerator, denominator in rows:
        raw.setdefault(slice_key, {})[(category, start)] = (numerator, denominator or 0)
    return [
        (key, label, MeasureFigures(measure, [selected], selected, suppress, raw.get(key, {})))
        for key, label in options.items()
    ]


@dataclass
class Freshness:
    last_success: RollupRun | None
    latest: RollupRun | None
    stale: bool


def stale_after():
    return timezone.timedelta(hours=getattr(settings, "DASHBOARD_STALE_AFTER_HOURS", 26))


def freshness():
    """How old the numbers are, and whether the nightly roll-up has fallen behind (two queries)."""
    last_success = (
        RollupRun.objects.filter(status=RollupRun.Status.SUCCEEDED).order_by("-finished_at", "-pk").first()
    )
    latest = RollupRun.objects.select_related("requested_by").order_by("-queued_at", "-pk").first()
    stale = last_success is None or timezone.now() - last_success.finished_at > stale_after()
    return Freshness(last_success, latest, stale)


def default_quarter(today=None):
    """The board looks at the last complete quarter."""
    return Quarter.containing(today or timezone.localdate()).previous()


def quarter_choices():
    return list(reversed(reporting_quarters()))
