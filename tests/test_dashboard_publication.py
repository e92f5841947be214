"""Frozen quarters: a published board report keeps its figures; later changes are revisions beside them.

The hand-worked partnership: 20 people start a community order in the latest quarter
whose proven reoffending is final; 6 of them reoffend within the year (30.0%). After
the report is published, one of the six is erased: the roll-up now finds 5 of 19
(26.3%), the published report still says 30.0%, and a revision with the reason
"erasure" sits beside it.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Offence, Supervision
from dashboard.figures import default_quarter, latest_final_quarter, wanted_quarters
from dashboard.measures import all_measures, get_measure
from dashboard.models import Dimension, FigureRevision, Publication, PublishedFigure, RollupRun, RollupValue
from dashboard.periods import Quarter
from dashboard.publication import publish_quarter, verify
from dashboard.rollup import run_rollup
from tests.factories import OffenderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def final_quarter_with_reoffenders(partnership):
    selected = default_quarter()
    final = latest_final_quarter(get_measure("proven_reoffending"), selected)
    people = []
    for index in range(20):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
        start = final.start + datetime.timedelta(days=10)
        Supervision.objects.create(offender=person, kind=Supervision.Kind.COMMUNITY_ORDER, started_on=start,
                                   responsible_agency=partnership.probation)
        if index < 6:
            Offence.objects.create(offender=person, committed_on=start + datetime.timedelta(days=30),
                                   offence_group="theft", outcome="conviction",
                                   outcome_on=start + datetime.timedelta(days=90))
        people.append(person)
    _roll_up(selected)
    return selected, final, people


def _roll_up(selected):
    """The roll-up of the quarters the report reads (the nightly run covers more)."""
    run_rollup(quarters=[Quarter(start) for start in wanted_quarters(all_measures(), selected)])


def _reoffending(final):
    return RollupValue.objects.get(measure="proven_reoffending", period_start=final.start, dimension=Dimension.ALL)


def _report(client, selected, **extra):
    return client.get(reverse("dashboard:report"), {"quarter": selected.key, **extra}).content.decode()


def test_erasure_after_publication_records_a_revision_and_leaves_the_published_report(
    partnership, client_for, final_quarter_with_reoffenders
):
    selected, final, people = final_quarter_with_reoffenders
    assert (_reoffending(final).numerator, _reoffending(final).denominator) == (6, 20)

    client = client_for(partnership.analyst)
    response = client.post(reverse("dashboard:publish"), {"quarter": selected.key})
    assert response.status_code == 302
    publication = Publication.objects.get(period_start=selected.start)
    assert publication.published_by == partnership.analyst
    assert publication.published_by_name and verify(publication)
    published = publication.figures.get(measure="proven_reoffending", period_start=final.start,
                                        dimension=Dimension.ALL)
    assert (published.numerator, published.denominator) == (6, 20)

    case_services.erase_offender(partnership.police_admin, people[0], reason="Retention period over")
    _roll_up(selected)

    assert (_reoffending(final).numerator, _reoffending(final).denominator) == (5, 19)
    revision = FigureRevision.objects.get(publication=publication, measure="proven_reoffending",
                                          period_start=final.start, dimension=Dimension.ALL, category="")
    assert (revision.numerator, revision.denominator) == (5, 19)
    assert revision.reason == FigureRevision.Reason.ERASURE
    # The published figures are the same rows, and still match their checksum.
    published.refresh_from_db()
    assert (published.numerator, published.denominator) == (6, 20)
    assert verify(publication)

    html = _report(client, selected)
    assert "Published" in html and publication.checksum in html
    assert "30.0%" in html
    assert "Revised to 26.3%" in html and "(erasure)" in html
    live = _report(client, selected, live="1")
    assert "26.3%" in live and "Revised to" not in live


def test_a_figure_changed_once_is_revised_once_and_late_data_says_so(
    partnership, client_for, final_quarter_with_reoffenders
):
    selected, final, people = final_quarter_with_reoffenders
    publication = publish_quarter(partnership.analyst, selected)
    _roll_up(selected)
    assert not publication.revisions.exists()  # nothing changed, nothing revised

    start = final.start + datetime.timedelta(days=10)
    Offence.objects.create(offender=people[10], committed_on=start + datetime.timedelta(days=40),
                           offence_group="burglary", outcome="conviction",
                           outcome_on=start + datetime.timedelta(days=100))
    _roll_up(selected)
    _roll_up(selected)
    revisions = publication.revisions.filter(measure="proven_reoffending", period_start=final.start,
                                             dimension=Dimension.ALL)
    assert [(r.numerator, r.denominator, r.reason) for r in revisions] == [(7, 20, FigureRevision.Reason.LATE_DATA)]


def test_published_figures_cannot_be_changed_or_deleted(partnership, final_quarter_with_reoffenders):
    selected, _final, _people = final_quarter_with_reoffenders
    publication = publish_quarter(partnership.analyst, selected)
    figure = publication.figures.first()
    with pytest.raises(Exception, match="frozen"), transaction.atomic():
        PublishedFigure.objects.filter(pk=figure.pk).update(numerator=figure.numerator + 1)
    with pytest.raises(Exception, match="frozen"), transaction.atomic():
        Publication.objects.filter(pk=publication.pk).update(checksum="0" * 64)
    with pytest.raises(Exception, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_publishedfigure WHERE id = %s", [figure.pk])
    assert verify(publication)


def test_only_analysts_and_administrators_publish_a_quarter_that_is_over_once(
    partnership, client_for, final_quarter_with_reoffenders
):
    selected, _final, _people = final_quarter_with_reoffenders
    response = client_for(partnership.police_om).post(reverse("dashboard:publish"), {"quarter": selected.key})
    assert response.status_code == 403
    assert not Publication.objects.exists()

    client = client_for(partnership.analyst)
    current = selected.next()
    response = client.post(reverse("dashboard:publish"), {"quarter": current.key}, follow=True)
    assert "can be published once it is over" in response.content.decode()
    assert client.post(reverse("dashboard:publish"), {"quarter": "2026-02-30"}).status_code == 400

    client.post(reverse("dashboard:publish"), {"quarter": selected.key})
    response = client.post(reverse("dashboard:publish"), {"quarter": selected.key}, follow=True)
    assert "already been published" in response.content.decode()
    assert Publication.objects.count() == 1


def test_figures_calculated_before_the_quarter_ended_are_not_published(partnership, final_quarter_with_reoffenders):
    selected, _final, _people = final_quarter_with_reoffenders
    RollupRun.objects.update(finished_at=timezone.make_aware(datetime.datetime.combine(selected.end,
                                                                                       datetime.time(12))))
    with pytest.raises(ValidationError, match="recalculate"):
        publish_quarter(partnership.analyst, selected)
