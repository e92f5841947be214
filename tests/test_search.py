"""Search as staff type it: PNC numbers in any common form, CRNs in any case, names with typos and aliases,
dates of birth that narrow a search; and the normalisation that makes identifier search an exact lookup."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from cases import search, services
from cases.identifiers import normalise_pnc
from cases.models import Alias, Offender

from .factories import OffenderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed, kept", [
    ("17/128C", "2017/0000128C"),
    ("2017/128C", "2017/0000128C"),
    ("2017/0000128C", "2017/0000128C"),
    ("17/128c", "2017/0000128C"),
    (" 2017 / 0000128 c ", "2017/0000128C"),
    ("99/1234567Z", "1999/1234567Z"),
    ("00/1A", "2000/0000001A"),
    ("X123456", "X123456"),
    ("not a number", "NOTANUMBER"),
])
def test_pnc_numbers_typed_any_common_way_have_one_form(typed, kept):
    assert normalise_pnc(typed) == kept


def test_a_pnc_number_is_kept_in_full_however_it_was_entered(partnership):
    person = services.create_offender(
        partnership.police_om, first_names="Riley", last_name="Short", date_of_birth=datetime.date(1995, 2, 3),
        gender="male", area=partnership.area, pnc_number="17/128c", crn="x654321", prison_number="a1234bc",
    )
    person.refresh_from_db()
    assert (person.pnc_number, person.crn, person.prison_number) == ("2017/0000128C", "X654321", "A1234BC")
    # Any path that writes the column writes the one form, bulk updates included.
    Offender.objects.filter(pk=person.pk).update(pnc_number="18/7x")
    assert Offender.objects.get(pk=person.pk).pnc_number == "2018/0000007X"


def test_the_same_pnc_number_in_another_form_is_refused_as_a_duplicate(partnership):
    with pytest.raises(services.ValidationError) as refusal:
        services.create_offender(
            partnership.police_om, first_names="Dupe", last_name="Person", date_of_birth=datetime.date(1990, 1, 1),
            gender="male", area=partnership.area, pnc_number="15/123456x",  # the IOM person's 2015/0123456X
        )
    assert "PNC number" in str(refusal.value)


def found(client, q, **filters):
    response = client.get(reverse("cases:list"), {"q": q, **filters})
    assert response.status_code == 200
    return [person.pk for person in response.context["page"].object_list]


@pytest.mark.parametrize("typed", ["2015/0123456X", "15/123456X", "2015/123456X", "15/123456x", "2015/0123456x"])
def test_a_pnc_number_in_any_common_form_finds_the_person(partnership, client_for, typed):
    assert found(client_for(partnership.police_om), typed) == [partnership.iom_person.pk]


@pytest.mark.parametrize("typed", ["X123456", "x123456", " x123456 "])
def test_a_crn_in_any_case_finds_the_person(partnership, client_for, typed):
    assert found(client_for(partnership.police_om), typed) == [partnership.iom_person.pk]


def test_a_prison_number_in_any_case_finds_the_person(partnership, client_for):
    Offender.objects.filter(pk=partnership.iom_person.pk).update(prison_number="A1234BC")
    assert found(client_for(partnership.police_om), "a1234bc") == [partnership.iom_person.pk]


def test_identifier_search_never_finds_a_person_the_agency_may_not_see(partnership, client_for):
    probation = client_for(partnership.probation_om)
    assert found(probation, "19/42z") == []  # the police-only person's 2019/0000042Z
    assert found(probation, "15/123456x") == [partnership.iom_person.pk]  # shared under the IOM agreement


def test_an_exact_identifier_lookup_uses_the_unique_index(partnership):
    visible = Offender.objects.visible_to(partnership.police_om)
    sql, params = search.search_people(visible, "17/128c").query.sql_with_params()
    assert "2017/0000128C" in params
    assert '"cases_offender"."pnc_number" = %s' in sql


@pytest.mark.parametrize("typed", ["Ashwroth", "ashwerth", "Jordon Ashworth", "Jordan Ashwroth", "Jordna Ashwerth"])
def test_a_name_with_a_typo_or_two_finds_the_person(partnership, client_for, typed):
    assert found(client_for(partnership.police_om), typed) == [partnership.iom_person.pk]


def test_an_alias_with_a_typo_finds_the_person(partnership, client_for):
    Alias.objects.create(offender=partnership.iom_person, name="Jay Thornbury")
    client = client_for(partnership.police_om)
    assert found(client, "Thornbery") == [partnership.iom_person.pk]
    assert found(client, "thornb") == [partnership.iom_person.pk]


def test_unrelated_names_are_not_matched(partnership, client_for):
    client = client_for(partnership.police_om)
    assert found(client, "Wilkinson") == []
    assert found(client, "Jordan Blackwood") == []  # each word must match the same person


def test_closer_spellings_come_first(partnership, client_for):
    area, police = partnership.area, partnership.police
    further = OffenderFactory(first_names="Sam", last_name="Ashwarth", area=area, lead_agency=police)
    client = client_for(partnership.police_om)
    # Nobody is called Ashwoth: Ashworth is one letter away, Ashwarth two.
    assert found(client, "Ashwoth") == [partnership.iom_person.pk, further.pk]
    # An explicit sort overrides the ranking.
    assert found(client, "Ashwoth", sort="name") == [further.pk, partnership.iom_person.pk]


def test_a_name_spelt_as_typed_lists_its_people_not_every_close_spelling(partnership, client_for):
    area, police = partnership.area, partnership.police
    exact = OffenderFactory(first_names="Sam", last_name="Ashwroth", area=area, lead_agency=police)
    longer = OffenderFactory(first_names="Kim", last_name="Ashwrothe", area=area, lead_agency=police)
    client = client_for(partnership.police_om)
    # Jordan Ashworth is a close spelling, but people are called Ashwroth: they are what was asked for,
    # the exact name before the longer one.
    assert found(client, "Ashwroth") == [exact.pk, longer.pk]


def test_close_spellings_are_tried_when_nobody_the_agency_may_see_matches_as_typed(partnership, client_for):
    """A person of the same name whom the agency may not see must not hide (or reveal) the close spellings."""
    OffenderFactory(first_names="Sam", last_name="Ashwroth", area=partnership.area, lead_agency=partnership.police)
    assert found(client_for(partnership.probation_om), "Ashwroth") == [partnership.iom_person.pk]


def test_a_date_of_birth_narrows_a_name_search(partnership, client_for):
    twin = OffenderFactory(first_names="Jordan", last_name="Ashworth", date_of_birth=datetime.date(1988, 3, 9),
                           area=partnership.area, lead_agency=partnership.police)
    client = client_for(partnership.police_om)
    assert set(found(client, "Ashworth")) == {partnership.iom_person.pk, twin.pk}
    assert found(client, "Ashworth 09/03/1988") == [twin.pk]
    assert found(client, "Ashworth 1988-03-09") == [twin.pk]
    assert found(client, "9/3/1988") == [twin.pk]
    assert found(client, "Ashworth 01/01/2001") == []


def test_typo_search_never_finds_a_person_the_agency_may_not_see(partnership, client_for):
    probation = client_for(partnership.probation_om)
    assert found(probation, "Blackwod") == []  # the police-only Casey Blackwood
    assert found(probation, "Ashwroth") == [partnership.iom_person.pk]


def test_without_trigram_search_names_are_still_found_by_prefix_and_alias(partnership, client_for, monkeypatch):
    """The SQLite demo's search: what PostgreSQL finds exactly, without the typo tolerance."""
    monkeypatch.setattr(search, "fuzzy_search_available", lambda: False)
    Alias.objects.create(offender=partnership.iom_person, name="JJ Smithers")
    client = client_for(partnership.police_om)
    assert found(client, "ash") == [partnership.iom_person.pk]
    assert found(client, "mither") == [partnership.iom_person.pk]
    assert found(client, "15/123456x") == [partnership.iom_person.pk]
    assert found(client, "Ashwroth") == []


def test_the_api_search_takes_the_same_forms(partnership, api_for):
    api = api_for(partnership.police_om)
    for q in ("15/123456x", "x123456", "Ashwroth"):
        response = api.get("/api/v1/people/", {"q": q})
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [partnership.iom_person.pk], q


def test_the_migration_rewrites_identifiers_saved_in_other_forms(partnership, capsys):
    migration = importlib.import_module("cases.migrations.0007_identifiers_in_one_form")
    other = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
    clash = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
    with connection.cursor() as cursor:  # as older code saved them, past the field's normalisation
        cursor.execute("UPDATE cases_offender SET pnc_number = %s, crn = %s WHERE id = %s",
                       ["17/128c", "x111111", other.pk])
        cursor.execute("UPDATE cases_offender SET pnc_number = %s WHERE id = %s", ["15/123456X", clash.pk])
    migration.normalise(apps, None)
    other.refresh_from_db()
    assert (other.pnc_number, other.crn) == ("2017/0000128C", "X111111")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pnc_number FROM cases_offender WHERE id = %s", [clash.pk])
        assert cursor.fetchone()[0] == "15/123456X"  # the IOM person already has it: left for a person to resolve
    assert f"person {clash.pk}" in capsys.readouterr().out
