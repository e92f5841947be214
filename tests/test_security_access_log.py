"""Data Protection Act 2018 Part 3 logging: consultation, disclosure, alteration and erasure, with who and when."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from cases import services
from cases.models import AccessLogEntry, CaseNote, Offender, RagChange

pytestmark = pytest.mark.django_db


def entries(**filters):
    return AccessLogEntry.objects.filter(**filters)


def test_consultation_viewing_and_searching_are_logged(partnership, client_for):
    client = client_for(partnership.probation_om)
    client.get(f"/cases/{partnership.iom_person.pk}/")
    client.get("/cases/", {"q": "Ashworth"})
    view = entries(action="view", offender_id=partnership.iom_person.pk).get()
    search = entries(action="search").get()
    assert (view.username, view.agency_id) == ("probation.om", partnership.probation.pk)
    assert search.detail == "Searched for: Ashworth" and search.user == partnership.probation_om
    assert timezone.now() - view.occurred_at < timezone.timedelta(minutes=1)


def test_disclosure_sharing_with_another_agency_is_logged(partnership):
    services.share_with_agency(partnership.police_om, partnership.police_only_person, partnership.housing,
                               reason="Housing referral")
    entry = entries(action="share").get()
    assert entry.offender_id == partnership.police_only_person.pk
    assert partnership.housing.name in entry.detail and entry.username == "police.om"


def test_alteration_creating_and_changing_are_logged(partnership):
    person = services.create_offender(
        partnership.police_om, first_names="Riley", last_name="Okafor", date_of_birth=timezone.localdate().replace(
            year=1990), gender="female", area=partnership.area,
    )
    services.update_offender(partnership.police_om, person, expected_version=person.version, postcode="NT1 1AA")
    services.record_rag_change(partnership.police_om, person, to_status="red", reason="Arrest")
    assert entries(action="create", offender_id=person.pk).count() == 1
    changes = entries(action="change", offender_id=person.pk)
    assert {c.detail for c in changes} == {"Changed: postcode", "RAG none to red"}


def test_erasure_removes_the_person_and_everything_about_them_and_is_logged(partnership):
    person = partnership.iom_person
    services.add_case_note(partnership.police_om, person, text="Seen")
    services.record_rag_change(partnership.police_om, person, to_status="amber", reason="Engaging")
    earlier = entries(offender_id=person.pk).count()
    person_id = person.pk
    services.erase_offender(partnership.police_admin, person, reason="Past review date, deletion confirmed")
    person.pk = person_id
    assert not Offender.objects.filter(pk=person.pk).exists()
    assert not CaseNote.objects.filter(offender_id=person.pk).exists()
    assert not RagChange.objects.filter(offender_id=person.pk).exists()
    erasure = entries(action="delete", offender_id=person.pk).get()
    assert erasure.username == "police.admin" and "deletion confirmed" in erasure.detail
    # The log outlives the record, and says nothing more about the person than their id.
    assert entries(offender_id=person.pk).count() == earlier + 1
    assert not entries(detail__icontains="Ashworth").exists()


@pytest.mark.parametrize("who", ["police_om", "probation_om", "housing_om", "analyst"])
def test_only_an_administrator_of_the_lead_agency_can_erase(partnership, who):
    with pytest.raises(PermissionDenied):
        services.erase_offender(getattr(partnership, who), partnership.iom_person, reason="No longer needed")
    assert Offender.objects.filter(pk=partnership.iom_person.pk).exists()
    assert not entries(action="delete").exists()


def test_erasure_needs_a_reason(partnership):
    with pytest.raises(ValidationError):
        services.erase_offender(partnership.police_admin, partnership.iom_person, reason="  ")
    assert Offender.objects.filter(pk=partnership.iom_person.pk).exists()


def test_the_application_cannot_update_or_delete_the_log(partnership):
    services.add_case_note(partnership.police_om, partnership.iom_person, text="Seen")
    entry = entries().first()
    entry.detail = "tampered"
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        entries().delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_accesslogentry SET username = 'someone.else'")
    assert entries(detail="tampered").count() == 0 and entries().count() >= 1


def test_agency_admin_searches_the_log_by_person_user_and_date(partnership, client_for):
    client_for(partnership.police_om).get(f"/cases/{partnership.iom_person.pk}/")
    client_for(partnership.police_reader).get(f"/cases/{partnership.police_only_person.pk}/")
    admin = client_for(partnership.police_admin)
    today = timezone.localdate().isoformat()
    by_person = admin.get("/cases/access-log/", {"person": partnership.iom_person.pk}).context["page"]
    assert {e.username for e in by_person} == {"police.om"}
    by_user = admin.get("/cases/access-log/", {"user": "police.reader"}).context["page"]
    assert {e.offender_id for e in by_user} == {partnership.police_only_person.pk}
    by_date = admin.get("/cases/access-log/", {"date_from": today, "date_to": today}).context["page"]
    assert len(by_date) == 2
    assert admin.get("/cases/access-log/", {"date_from": "2000-01-01", "date_to": "2000-01-02"}).context[
        "page"].paginator.count == 0


def test_erasure_blocked_by_a_protected_record_says_what_is_in_the_way(partnership, monkeypatch):
    from django.db.models import ProtectedError

    note = CaseNote.objects.create(offender=partnership.iom_person, agency=partnership.police, text="Seen")

    def refuse(self, *args, **kwargs):
        raise ProtectedError("protected", {note})

    monkeypatch.setattr(Offender, "delete", refuse)
    with pytest.raises(ValidationError, match="case notes"):
        services.erase_offender(partnership.police_admin, partnership.iom_person, reason="Review")
    assert not entries(action="delete").exists()
