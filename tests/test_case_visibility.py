"""Who can see which person: the information sharing rule, in the list, on the case page and in search."""

import pytest

from cases.models import CaseNote, Cohort, Offender
from cases.services import share_with_agency

from .factories import CaseNoteFactory, MembershipFactory, SharingAgreementFactory

pytestmark = pytest.mark.django_db


def visible_names(user):
    return set(Offender.objects.visible_to(user).values_list("last_name", flat=True))


def test_lead_agency_sees_its_own_cases(partnership):
    assert visible_names(partnership.police_om) == {"Ashworth", "Blackwood"}


def test_sharing_agreement_opens_only_the_agreed_cohort(partnership):
    assert visible_names(partnership.probation_om) == {"Ashworth"}


def test_agency_without_agreement_sees_nobody(partnership):
    assert visible_names(partnership.housing_om) == set()


def test_analyst_sees_no_people(partnership):
    assert visible_names(partnership.analyst) == set()


def test_ending_the_membership_closes_the_window(partnership):
    membership = partnership.iom_person.cohort_memberships.get()
    membership.ended_on = membership.started_on
    membership.exit_reason = "completed"
    membership.save()
    assert visible_names(partnership.probation_om) == set()


def test_sharing_a_case_opens_it_to_that_agency_only(partnership):
    share_with_agency(partnership.police_om, partnership.police_only_person, partnership.housing, reason="Referral")
    assert visible_names(partnership.housing_om) == {"Blackwood"}
    assert "Blackwood" not in visible_names(partnership.probation_om)


def test_a_share_opens_only_the_person_shared(partnership):
    share_with_agency(partnership.police_om, partnership.iom_person, partnership.housing, reason="Housing referral")
    assert visible_names(partnership.housing_om) == {"Ashworth"}


def test_unseen_case_page_is_404_not_403(partnership, client_for):
    client = client_for(partnership.probation_om)
    assert client.get(partnership.police_only_person.get_absolute_url()).status_code == 404
    assert client.get(partnership.iom_person.get_absolute_url()).status_code == 200


def test_case_list_shows_only_visible_people(partnership, client_for):
    response = client_for(partnership.probation_om).get("/cases/")
    assert response.status_code == 200
    assert b"ASHWORTH" in response.content
    assert b"BLACKWOOD" not in response.content


def test_search_by_pnc_never_finds_an_unseen_person(partnership, client_for):
    response = client_for(partnership.probation_om).get("/cases/", {"q": "2019/0000042Z"})
    assert b"BLACKWOOD" not in response.content
    response = client_for(partnership.police_om).get("/cases/", {"q": "2019/0000042z"})
    assert b"BLACKWOOD" in response.content


def test_analyst_is_refused_the_case_list(partnership, client_for):
    assert client_for(partnership.analyst).get("/cases/").status_code == 403


def test_restricted_note_stays_in_the_authors_agency(partnership, client_for):
    CaseNoteFactory(offender=partnership.iom_person, agency=partnership.police, author=partnership.police_om,
                    text="Intelligence: associates with a known supplier", sharing=CaseNote.Sharing.AGENCY)
    CaseNoteFactory(offender=partnership.iom_person, agency=partnership.police, text="Attended the hostel viewing")
    notes = f"/cases/{partnership.iom_person.pk}/notes/"
    activity = f"/cases/{partnership.iom_person.pk}/activity/"
    for url in (notes, activity, f"{activity}?q=supplier&category=notes"):
        probation_page = client_for(partnership.probation_om).get(url)
        assert b"known supplier" not in probation_page.content, url
        police_page = client_for(partnership.police_om).get(url)
        assert b"known supplier" in police_page.content, url
    for url in (notes, activity):
        assert b"Attended the hostel viewing" in client_for(partnership.probation_om).get(url).content


def test_read_only_user_sees_but_cannot_change(partnership, client_for):
    client = client_for(partnership.police_reader)
    assert client.get(partnership.iom_person.get_absolute_url()).status_code == 200
    response = client.post(f"/cases/{partnership.iom_person.pk}/rag/", {"to_status": "red", "reason": "x"})
    assert response.status_code == 403
    assert partnership.iom_person.rag_changes.count() == 0


def test_partner_with_view_rights_cannot_edit_identity(partnership, client_for):
    client = client_for(partnership.probation_om)
    assert client.get(f"/cases/{partnership.iom_person.pk}/edit/").status_code == 403


def test_other_agency_writes_to_unseen_case_are_404(partnership, client_for):
    client = client_for(partnership.housing_om)
    pk = partnership.iom_person.pk
    for url in [f"/cases/{pk}/rag/", f"/cases/{pk}/notes/new/", f"/cases/{pk}/cohorts/new/", f"/cases/{pk}/share/"]:
        assert client.post(url, {}).status_code == 404, url


def test_person_on_two_shared_cohorts_is_listed_once(partnership, client_for):
    SharingAgreementFactory(agency=partnership.probation, cohort=Cohort.DIP)
    MembershipFactory(offender=partnership.iom_person, cohort=Cohort.DIP)
    response = client_for(partnership.probation_om).get("/cases/")
    assert response.content.count(b"ASHWORTH, Jordan") == 1
    assert response.context["page"].paginator.count == 1
