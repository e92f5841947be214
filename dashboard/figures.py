"""Figures for the dashboard pages, read from the roll-up tables only, with their disclosure control.

Which figures are hidden was decided by the roll-up over every linked table
(`dashboard.disclosure`) and is stored with them; this module only shows it. A hidden
count, and any percentage, ratio, share or change built on a hidden figure, reads
"Not shown", the same text whether it was small itself or hidden to protect another,
so nobody can tell which hidden figures are the small ones. Every role sees the same
protected figures; roles that may see people can go from a figure to the people behind
it whom they may see. For public outputs, counts can be rounded (to the nearest 5 by
default) and percentages are then worked out from the rounded counts.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from cases.models import Agency, Area, Cohort, Offender

from .definition import MIX, RATE, RATIO
from .disclosure import round_count
from .models import Dimension, RollupRun, RollupValue
from .periods import Quarter, reporting_quarters
from .rollup import AGE_BANDS, PRIORITY_GROUPS

SUPPRESSED_TEXT = "Not shown"
TREND_QUARTERS = 8
EMPTY = (0, 0, False, False)


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
    note: str = ""  # on a published report: how a later calculation revised the figure


HIDDEN = Cell(SUPPRESSED_TEXT, None, hidden=True)


def count_cell(count, hidden=False, rounding=0):
    if hidden:
        return Cell(SUPPRESSED_TEXT, None, hidden=True)
    if rounding:
        count = round_count(count, rounding)
    return Cell(f"{count:,}", float(count), count=count)


def rate_cell(numerator, denominator, hidden=False, *, percent=True, rounding=0):
    if hidden:
        return Cell(SUPPRESSED_TEXT, None, hidden=True)
    if rounding:
        numerator, denominator = round_count(numerator, rounding), round_count(denominator, rounding)
    if not denominator:
        return Cell("No one to measure" if percent else "None", None)
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
        Dimension.GROUP: [(key, label) for key, label, _ in PRIORITY_GROUPS],
    }


@dataclass
class MeasureFigures:
    """A measure's figures for a run of quarters and one slice."""

    measure: object
    quarters: list
    selected: Quarter
    # (category, quarter start) -> (numerator, denominator, numerator hidden, denominator hidden)
    raw: dict = field(default_factory=dict)
    rounding: int = 0  # round counts to this base for public outputs (0: exact)
    # On a published report: the day it was published (provisional as it was then), and the figures
    # recalculated since, {(category, quarter start): figure}, with {(category, quarter start): revision}.
    as_of: object = None
    revised: dict = field(default_factory=dict)
    revisions: dict = field(default_factory=dict)
    # When the run these figures come from finished (the latest of their rows' `computed_at`).
    calculated_at: object = None

    @property
    def today(self):
        return self.as_of or timezone.localdate()

    def _raw(self, quarter, category=""):
        return self.raw.get((category, quarter.start), EMPTY)

    def cell(self, quarter, category=None):
        """The figure of the measure (a mix's total), or one category of a mix, for a quarter."""
        kind = self.measure.kind
        numerator, denominator, numerator_hidden, denominator_hidden = self._raw(quarter, category or "")
        if kind in {RATE, RATIO}:
            return rate_cell(numerator, denominator, numerator_hidden or denominator_hidden, percent=kind == RATE,
                             rounding=self.rounding)
        if kind == MIX and category is None and (("", quarter.start) not in self.raw):
            numerator = self.total(quarter)  # figures rolled up before mixes stored their totals
        return count_cell(numerator, numerator_hidden, self.rounding)

    def mix_cells(self, quarter):
        """A mix's category cells."""
        return {key: self.cell(quarter, key) for key, _ in self.measure.categories}

    def total(self, quarter):
        if ("", quarter.start) in self.raw:
            return self._raw(quarter)[0]
        return sum(self._raw(quarter, key)[0] for key, _ in self.measure.categories)

    def share(self, quarter, category):
        """A category's share of the mix, as a percentage cell (hidden when it or the total is)."""
        if self.cell(quarter, category).hidden or self.cell(quarter).hidden:
            return HIDDEN
        return rate_cell(self._raw(quarter, category)[0], self.total(quarter), rounding=self.rounding)

    def numerator_cell(self, quarter):
        numerator, _, hidden, _ = self._raw(quarter)
        return count_cell(numerator, hidden, self.rounding)

    def denominator_cell(self, quarter):
        _, denominator, _, hidden = self._raw(quarter)
        return count_cell(denominator, hidden, self.rounding)

    def base_cell(self, quarter):
        """What the headline is out of: a rate's denominator, or a mix's total."""
        if self.measure.kind == MIX:
            return self.cell(quarter)
        return self.denominator_cell(quarter)

    def headline_cell(self, quarter):
        """The figure a board member reads first: a mix's chosen share, otherwise the measure's own figure."""
        if self.measure.kind != MIX or not self.measure.headline:
            return self.cell(quarter)
        if self.cell(quarter).hidden or any(self.cell(quarter, key).hidden for key in self.measure.headline):
            return HIDDEN
        part = sum(self._raw(quarter, key)[0] for key in self.measure.headline)
        if self.rounding:
            part = sum(round_count(self._raw(quarter, key)[0], self.rounding) for key in self.measure.headline)
            return rate_cell(part, round_count(self.total(quarter), self.rounding))
        return rate_cell(part, self.total(quarter))

    @property
    def headline_kind(self):
        return RATE if self.measure.kind == MIX and self.measure.headline else self.measure.kind

    @property
    def headline(self):
        return self.headline_cell(self.selected)

    @property
    def previous(self):
        return self.headline_cell(self.selected.previous())

    @property
    def change(self):
        """Change on the previous quarter: only between two final quarters, so like is compared with like."""
        if self.is_provisional(self.selected) or self.is_provisional(self.selected.previous()):
            return ""
        return change_text(self.headline, self.previous, self.headline_kind)

    def is_provisional(self, quarter):
        """The figure can still change: the quarter, or the follow-up the measure needs, is not over."""
        return self.today < self.measure.final_on(quarter)

    def completeness(self, quarter):
        """Per cent of the quarter's figure that is in (whole per cent, rounded down so 100 means final)."""
        return int(self.measure.completeness(quarter, self.today) * 100)

    @property
    def selected_provisional(self):
        return self.is_provisional(self.selected)

    @property
    def selected_completeness(self):
        return self.completeness(self.selected)

    @property
    def latest_final(self):
        """The latest quarter up to the selected one whose figure is final."""
        return latest_final_quarter(self.measure, self.selected, self.today)

    @property
    def latest_final_headline(self):
        return self.headline_cell(self.latest_final)

    @property
    def latest_final_change(self):
        """The latest final quarter against the one before it: the trend the board may quote."""
        quarter = self.latest_final
        return change_text(self.headline_cell(quarter), self.headline_cell(quarter.previous()), self.headline_kind)

    def revision(self, quarter, category=None, *, headline=False):
        """The latest revision behind a published figure, or None: {cell, reason, recorded_at}."""
        keys = [(category or "", quarter.start)]
        if headline or self.measure.kind == MIX and not category:
            keys += [(key, quarter.start) for key, _ in self.measure.categories]
        latest = [self.revisions[key] for key in keys if key in self.revisions]
        if not latest:
            return None
        current = MeasureFigures(self.measure, self.quarters, self.selected, {**self.raw, **self.revised},
                                 self.rounding)
        cell = current.headline_cell(quarter) if headline else current.cell(quarter, category)
        newest = max(latest, key=lambda revision: revision.recorded_at)
        return {"cell": cell, "reason": newest.get_reason_display(), "recorded_at": newest.recorded_at,
                "detail": newest.detail}

    def revision_note(self, quarter, category=None, *, headline=False):
        revision = self.revision(quarter, category, headline=headline)
        if revision is None:
            return ""
        when = timezone.localtime(revision["recorded_at"]).strftime("%-d %b %Y")
        if revision["cell"].text == self.headline_cell(quarter).text and headline:
            return f"Recalculated on {when} ({revision['reason'].lower()}), figure unchanged"
        return f"Revised to {revision['cell'].text} on {when} ({revision['reason'].lower()})"

    @property
    def headline_note(self):
        return self.revision_note(self.selected, headline=True) if self.revisions else ""

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
                 linked(self.numerator_cell(quarter), quarter),
                 linked(self.denominator_cell(quarter), quarter, part="denominator")]
                for quarter in self.quarters
            ]
        else:
            header = ["Quarter", self.measure.label]
            rows = [[quarter.short_label, linked(self.cell(quarter), quarter)] for quarter in self.quarters]
        for row, quarter in zip(rows, self.quarters, strict=True):
            if self.revisions:
                categories = [key for key, _ in self.measure.categories] + [None] if kind == MIX else [None]
                for cell, category in zip(row[1:], categories, strict=False):
                    cell.note = self.revision_note(quarter, category)
            if self.is_provisional(quarter):
                row[0] += f" (provisional, {self.completeness(quarter)}% complete)"
        return header, rows


def latest_final_quarter(measure, selected, today=None):
    """The latest quarter, up to `selected`, that is final for the measure."""
    today = today or timezone.localdate()
    quarter = selected
    while today < measure.final_on(quarter):
        quarter = quarter.previous()
    return quarter


def trend_quarters(selected, count=TREND_QUARTERS):
    """The quarters of a trend chart, oldest first, ending with `selected`."""
    quarters = [selected]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    return sorted(quarters)


VALUE_FIELDS = ("numerator", "denominator", "numerator_hidden", "denominator_hidden")


def _figure(numerator, denominator, numerator_hidden, denominator_hidden):
    return numerator, denominator or 0, numerator_hidden, denominator_hidden


def wanted_quarters(measures, selected, quarters=None, today=None):
    """The start of every quarter the figures up to `selected` read: the trend, and what each is compared with."""
    quarters = quarters or trend_quarters(selected)
    # The quarter before each one shown, for the change on the previous quarter of the latest final one.
    wanted = {quarter.start for quarter in quarters} | {quarter.previous().start for quarter in quarters}
    for measure in measures:
        final = latest_final_quarter(measure, selected, today)
        wanted |= {final.start, final.previous().start}
    return wanted


def load_figures(measures, selected, dimension, slice_key, rounding=0, quarters=None, publication=None):
    """Every measure's figures for the trend up to `selected`, in one query of the roll-up table.

    With a `publication`, the figures as published instead (one query of its frozen figures,
    one of the revisions recorded since).
    """
    quarters = quarters or trend_quarters(selected)
    names = [measure.name for measure in measures]
    where = {"dimension": dimension, "slice_key": slice_key if dimension != Dimension.ALL else ""}
    as_of = timezone.localdate(publication.published_at) if publication else None
    raw = {measure.name: {} for measure in measures}
    revised = {measure.name: {} for measure in measures}
    revisions = {measure.name: {} for measure in measures}
    calculated_at = {}
    if publication is None:
        # The time of the run is read with the figures, in the same statement: a run switching its figures
        # in meanwhile cannot pair old figures with the new run's time.
        computed = RollupValue.objects.filter(
            measure__in=names, period_start__in=wanted_quarters(measures, selected, quarters), **where
        ).values_list("measure", "category", "period_start", *VALUE_FIELDS, "computed_at")
        rows = []
        for *row, computed_at in computed:
            rows.append(row)
            calculated_at[row[0]] = max(computed_at, calculated_at.get(row[0], computed_at))
    else:
        rows = publication.figures.filter(measure__in=names, **where).values_list(
            "measure", "category", "period_start", *VALUE_FIELDS)
        for revision in publication.revisions.filter(measure__in=names, **where).order_by("recorded_at", "pk"):
            key = (revision.category, revision.period_start)
            revised[revision.measure][key] = _figure(*(getattr(revision, name) for name in VALUE_FIELDS))
            revisions[revision.measure][key] = revision
    for name, category, start, *values in rows:
        raw[name][(category, start)] = _figure(*values)
    return [
        MeasureFigures(measure, quarters, selected, raw[measure.name], rounding, as_of=as_of,
                       revised=revised[measure.name], revisions=revisions[measure.name],
                       calculated_at=calculated_at.get(measure.name))
        for measure in measures
    ]


def breakdown(measure, selected, dimension, rounding=0, options=None):
    """One measure for one quarter (and the one before, for the change) across every slice of a dimension."""
    options = dict((options or slice_options())[dimension])
    rows = RollupValue.objects.filter(
        measure=measure.name, period_start__in=[selected.start, selected.previous().start], dimension=dimension
    ).values_list("slice_key", "category", "period_start", *VALUE_FIELDS)
    raw = {}
    for slice_key, category, start, *values in rows:
        raw.setdefault(slice_key, {})[(category, start)] = _figure(*values)
    return [
        (key, label, MeasureFigures(measure, [selected], selected, raw.get(key, {}), rounding))
        for key, label in options.items()
    ]


@dataclass
class Freshness:
    last_success: RollupRun | None
    latest: RollupRun | None
    stale: bool
    # When the figures shown were calculated: the time of the run they come from.
    calculated_at: object = None


def stale_after():
    return timezone.timedelta(hours=getattr(settings, "DASHBOARD_STALE_AFTER_HOURS", 26))


def freshness(figures=()):
    """How old the numbers are, and whether the nightly roll-up has fallen behind (two queries).

    Given the figures a page shows, their age is the time of the run they were read with
    (`MeasureFigures.calculated_at`), not whichever run has finished since.
    """
    # The full runs: incremental runs between them calculate only what changed, so they say nothing of whether
    # the nightly run (or Recalculate) has fallen behind.
    full = RollupRun.objects.filter(kind=RollupRun.Kind.FULL)
    last_success = full.filter(status=RollupRun.Status.SUCCEEDED).order_by("-finished_at", "-pk").first()
    latest = full.select_related("requested_by").order_by("-queued_at", "-pk").first()
    times = [item.calculated_at for item in figures if item.calculated_at is not None]
    calculated_at = max(times) if times else (last_success.finished_at if last_success else None)
    stale = calculated_at is None or timezone.now() - calculated_at > stale_after()
    return Freshness(last_success, latest, stale, calculated_at)


def default_quarter(today=None):
    """The board looks at the last complete quarter."""
    return Quarter.containing(today or timezone.localdate()).previous()


def quarter_choices():
    return list(reversed(reporting_quarters()))
