"""The REST API for the case record: status codes, visibility, role refusals and optimistic locking."""

import datetime

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken
from cases.models import AccessLogEntry, Cohort, CohortMembership, Offender, RagChange

from .factories import AppointmentFactory, MembershipFactory, OffenderFactory

API = "/api/v1"


def new_person(p, **overrides):
    return {
        "first_names": "Robin", "last_name": "Fairweather", "date_of_birth": "1988-02-03", "gender": "male",
        "area": p.area.pk, "pnc_number": "2016/0001234a", "crn": "y654321", **overrides,
    }


# --- authentication -------------------------------------------------------------------------


def test_without_credentials_the_api_answers_401(partnership):
    response = APIClient().get(f"{API}/people/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_wrong_token_is_401(partnership):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"{API}/people/").status_code == 401


def test_a_session_signed_in_with_the_security_code_works_and_can_issue_a_token(partnership, client_for):
    client = client_for(partnership.police_om)
    assert client.get(f"{API}/people/").status_code == 200
    issued = client.post(f"{API}/token/")
    assert issued.status_code == 201
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    assert token_client.get(f"{API}/people/").status_code == 200
    # DELETE from the session withdraws every token of the user.
    assert client.delete(f"{API}/token/").status_code == 204
    assert token_client.get(f"{API}/people/").status_code == 401
    assert not ApiToken.objects.filter(user=partnership.police_om).exists()


def test_a_session_without_the_security_code_is_refused_and_cannot_get_a_token(partnership, client):
    client.force_login(partnership.police_om)  # password only: the two-factor step not done
    assert client.get(f"{API}/people/").status_code == 403
    assert client.post(f"{API}/token/").status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_cannot_issue_another_token(partnership, api_for):
    assert api_for(partnership.police_om).post(f"{API}/token/").status_code in (401, 403)
    assert ApiToken.objects.filter(user=partnership.police_om).count() == 1


# --- people ---------------------------------------------------------------------------------


def test_list_shows_only_people_the_agency_may_see(partnership, api_for):
    police = api_for(partnership.police_om).get(f"{API}/people/").json()
    probation = api_for(partnership.probation_om).get(f"{API}/people/").json()
    housing = api_for(partnership.housing_om).get(f"{API}/people/").json()
    assert {r["id"] for r in police["results"]} == {partnership.iom_person.pk, partnership.police_only_person.pk}
    assert [r["id"] for r in probation["results"]] == [partnership.iom_person.pk]
    assert housing["count"] == 0
    iom = next(r for r in police["results"] if r["id"] == partnership.iom_person.pk)
    assert iom["open_cohorts"][0]["cohort"] == "iom"
    assert iom["version"] == 1


def test_analyst_is_refused_every_people_endpoint(partnership, api_for):
    client = api_for(partnership.analyst)
    pk = partnership.iom_person.pk
    for url in [f"{API}/people/", f"{API}/people/{pk}/", f"{API}/people/{pk}/memberships/",
                f"{API}/people/{pk}/rag-changes/", f"{API}/people/{pk}/appointments/"]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"{API}/people/", new_person(partnership), format="json").status_code == 403


def test_search_and_filters_and_the_search_is_logged(partnership, api_for):
    client = api_for(partnership.police_om)
    found = client.get(f"{API}/people/", {"q": "ashworth"}).json()
    assert [r["id"] for r in found["results"]] == [partnership.iom_person.pk]
    by_pnc = client.get(f"{API}/people/", {"q": "2019/0000042z"}).json()
    assert [r["id"] for r in by_pnc["results"]] == [partnership.police_only_person.pk]
    on_iom = client.get(f"{API}/people/", {"cohort": "iom"}).json()
    assert [r["id"] for r in on_iom["results"]] == [partnership.iom_person.pk]
    assert AccessLogEntry.objects.filter(action="search", username="police.om").count() == 2
    assert client.get(f"{API}/people/", {"cohort": "not-a-cohort"}).status_code == 400


@pytest.mark.parametrize("query", [
    {"mine": "perhaps"}, {"mine": ""}, {"area": "north"}, {"page": "0"}, {"page_size": "0"}, {"page_size": "201"},
    {"mine": ["true", "false"]}, {"cohort": ""}, {"rag_status": ""}, {"lead_agency": ""},
])
def test_a_query_parameter_that_is_not_of_its_type_is_refused_not_ignored(partnership, api_for, query):
    refused = api_for(partnership.police_om).get(f"{API}/people/", query)
    assert refused.status_code == 400
    body = refused.json()
    assert body["detail"] and set(query) & set(body)


def test_true_and_false_filters_read_their_words(partnership, api_for):
    assert partnership.police_only_person.lead_offender_manager is None
    client = api_for(partnership.police_om)
    for value in ("true", "1", "TRUE"):
        mine = client.get(f"{API}/people/", {"mine": value}).json()["results"]
        assert partnership.police_only_person.pk not in [r["id"] for r in mine]
    everyone = client.get(f"{API}/people/", {"mine": "false"}).json()["results"]
    assert partnership.police_only_person.pk in [r["id"] for r in everyone]
    assert client.get(f"{API}/actions/", {"overdue": "soon"}).status_code == 400


@pytest.mark.parametrize("path, parameter", [
    ("panel-meetings/", "held_on__gte"), ("panel-meetings/", "status"), ("actions/", "due_before"),
    ("actions/", "status"), ("people/{pk}/needs/", "level"), ("people/{pk}/referrals/", "urgency"),
])
def test_an_empty_filter_is_refused_not_read_as_no_filter(partnership, api_for, path, parameter):
    url = f"{API}/{path.format(pk=partnership.iom_person.pk)}"
    refused = api_for(partnership.police_om).get(url, {parameter: ""})
    assert refused.status_code == 400 and parameter in refused.json()


def test_an_empty_search_or_sort_is_no_search_or_sort(partnership, api_for):
    listed = api_for(partnership.police_om).get(f"{API}/people/", {"q": "", "sort": ""})
    assert listed.status_code == 200 and listed.json()["count"] == 2


def test_retrieve_is_logged_and_unseen_people_are_404(partnership, api_for):
    pk = partnership.police_only_person.pk
    assert api_for(partnership.police_om).get(f"{API}/people/{pk}/").status_code == 200
    assert AccessLogEntry.objects.filter(action="view", offender_id=pk).count() == 1
    assert api_for(partnership.probation_om).get(f"{API}/people/{pk}/").status_code == 404
    assert api_for(partnership.probation_om).get(f"{API}/people/999999/").status_code == 404


def test_create_a_person_with_normalised_identifiers(partnership, api_for):
    response = api_for(partnership.police_om).post(
        f"{API}/people/", new_person(partnership, aliases=[" Rob F "]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["pnc_number"] == "2016/0001234A" and body["crn"] == "Y654321"
    assert body["aliases"] == ["Rob F"]
    person = Offender.objects.get(pk=body["id"])
    assert person.lead_agency == partnership.police
    assert AccessLogEntry.objects.filter(action="create", offender_id=person.pk).exists()


def test_create_with_bad_input_is_400_with_field_errors(partnership, api_for):
    client = api_for(partnership.police_om)
    response = client.post(
        f"{API}/people/", new_person(partnership, pnc_number="nonsense", date_of_birth="2999-01-01", gender="x"),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"pnc_number", "date_of_birth", "gender"}
    duplicate = client.post(f"{API}/people/", new_person(partnership, pnc_number="2015/0123456X"), format="json")
    assert duplicate.status_code == 400
    assert "already has this PNC number" in str(duplicate.json())
    assert client.post(f"{API}/people/", "not json", content_type="application/json").status_code == 400


def test_read_only_staff_cannot_create_or_change_people(partnership, api_for):
    client = api_for(partnership.police_reader)
    assert client.post(f"{API}/people/", new_person(partnership), format="json").status_code == 403
    pk = partnership.iom_person.pk
    assert client.patch(f"{API}/people/{pk}/", {"last_name": "X", "version": 1}, format="json").status_code == 403


def test_partner_who_sees_a_person_cannot_change_their_details(partnership, api_for):
    response = api_for(partnership.probation_om).patch(
        f"{API}/people/{partnership.iom_person.pk}/", {"postcode": "NT1 1AA", "version": 1}, format="json"
    )
    assert response.status_code == 403


def test_update_needs_the_version_and_bumps_it(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/"
    assert client.patch(url, {"postcode": "NT1 1AA"}, format="json").status_code == 400
    response = client.patch(url, {"postcode": "NT1 1AA", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2 and response.json()["postcode"] == "NT1 1AA"


def test_a_stale_version_is_409_conflict_with_what_differs(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/"
    assert client.patch(url, {"postcode": "NT1 1AA", "version": 1}, format="json").status_code == 200
    stale = client.patch(url, {"postcode": "NT9 9ZZ", "last_name": "Ashworth", "version": 1}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["version"] == 2
    assert body["changed"] == {"postcode": {"current": "NT1 1AA", "yours": "NT9 9ZZ"}}
    assert body["current"]["postcode"] == "NT1 1AA"
    assert Offender.objects.get(pk=partnership.iom_person.pk).postcode == "NT1 1AA"


def test_put_replaces_the_details(partnership, api_for):
    client = api_for(partnership.police_om)
    person = partnership.police_only_person
    response = client.put(
        f"{API}/people/{person.pk}/",
        new_person(partnership, pnc_number=person.pnc_number, crn="", version=1, aliases=["Case B"]), format="json",
    )
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert person.first_names == "Robin" and list(person.aliases.values_list("name", flat=True)) == ["Case B"]


def test_people_list_uses_a_constant_number_of_queries(partnership, api_for, django_assert_max_num_queries):
    client = api_for(partnership.police_om)
    with django_assert_max_num_queries(8):
        assert client.get(f"{API}/people/").status_code == 200
    for _ in range(30):
        person = OffenderFactory(lead_agency=partnership.police, area=partnership.area)
        person.aliases.create(name="Alias")
        CohortMembership.objects.create(offender=person, cohort=Cohort.DIP)
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{API}/people/").json()["results"]) == 32


def walk_cursor_pages(client, url):
    """Every result from following `next` to the end, and how many pages that took."""
    results, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert "count" not in body and "count_is_capped" not in body
        results += body["results"]
        pages += 1
        url = body["next"]
    return results, pages


def test_cursor_pages_read_each_visible_person_exactly_once(partnership, api_for):
    p = partnership
    for index in range(13):  # on the IOM cohort, which probation's agreement opens
        MembershipFactory(offender=OffenderFactory(lead_agency=p.police, area=p.area, last_name=f"Shared{index}"),
                          cohort=Cohort.IOM)
    hidden = {OffenderFactory(lead_agency=p.police, area=p.area).pk for _ in range(7)}
    client = api_for(p.probation_om)
    first = client.get(f"{API}/people/", {"pagination": "cursor", "page_size": 4})
    assert first.status_code == 200 and first.json()["previous"] is None
    # Someone shared with probation part-way through is read once, at the end, as ids only grow.
    late = OffenderFactory(lead_agency=p.police, area=p.area)
    MembershipFactory(offender=late, cohort=Cohort.IOM)
    rest, pages = walk_cursor_pages(client, first.json()["next"])
    ids = [r["id"] for r in first.json()["results"] + rest]
    visible = set(Offender.objects.visible_to(p.probation_om).values_list("pk", flat=True))
    assert len(ids) == len(set(ids)) == len(visible) == 15
    assert set(ids) == visible and not set(ids) & hidden and ids == sorted(ids)
    assert pages + 1 == 4
    # Filters and a search apply to every page, and `previous` leads back.
    searched, _ = walk_cursor_pages(client, f"{API}/people/?pagination=cursor&page_size=2&q=Shared1")
    assert sorted(r["last_name"] for r in searched) == sorted(["Shared1", *(f"Shared1{n}" for n in range(3))])
    second = client.get(first.json()["next"]).json()
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first.json()["results"]]


def test_numbered_pages_are_unchanged_for_existing_clients(partnership, api_for):
    body = api_for(partnership.police_om).get(f"{API}/people/", {"page_size": 1}).json()
    assert body["count"] == 2 and body["count_is_capped"] is False and "page=2" in body["next"]
    assert api_for(partnership.police_om).get(f"{API}/people/", {"pagination": "page"}).json()["count"] == 2


def test_a_cursor_that_the_api_did_not_give_is_refused_with_a_reason(partnership, api_for):
    client = api_for(partnership.police_om)
    given = client.get(f"{API}/people/", {"pagination": "cursor", "page_size": 1}).json()["next"]
    cursor = given.split("cursor=")[1].split("&")[0]
    value, signature = cursor.rsplit("%3A", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for tampered in [f"{value}%3A{flipped}", value, "cD0x", "bm90IGEgY3Vyc29y", "%00", "\u00e9t\u00e9", ""]:
        response = client.get(f"{API}/people/?cursor={tampered}")
        assert response.status_code == 400, tampered
        assert response.json()["cursor"] == [
            "Not a cursor this API gave: follow `next` or `previous` as given, or start again with "
            "`pagination=cursor`."]
    assert client.get(given).status_code == 200


@pytest.mark.parametrize("query, refused", [
    ("pagination=cursor&page=2", "page"), ("pagination=cursor&sort=name", "sort"),
    ("pagination=pages", "pagination"), ("pagination=page&cursor=x", "cursor"),
    ("pagination=cursor&pagination=page", "pagination"), ("pagination=cursor&page_size=201", "page_size"),
])
def test_what_a_cursor_page_cannot_honour_is_refused(partnership, api_for, query, refused):
    response = api_for(partnership.police_om).get(f"{API}/people/?{query}")
    assert response.status_code == 400 and refused in response.json(), response.json()


# --- memberships, RAG and appointments ----------------------------------------------------


def test_enrol_and_end_a_cohort_membership(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/memberships/"
    created = client.post(url, {"cohort": "mappa", "mappa_category": 2, "mappa_level": 2}, format="json")
    assert created.status_code == 201, created.json()
    assert client.post(url, {"cohort": "mappa", "mappa_category": 2, "mappa_level": 2},
                       format="json").status_code == 400
    assert client.post(url, {"cohort": "iom"}, format="json").json() == {
        "detail": "The request was not valid: see the fields named.",
        "iom_category": ["Select the IOM category."],
    }
    end_url = f"{url}{created.json()['id']}/end/"
    assert client.post(end_url, {"ended_on": "1990-01-01", "exit_reason": "completed"},
                       format="json").status_code == 400
    ended = client.post(end_url, {"ended_on": datetime.date.today().isoformat(), "exit_reason": "completed"},
                        format="json")
    assert ended.status_code == 200 and ended.json()["exit_reason"] == "completed"
    assert client.post(end_url, {"ended_on": datetime.date.today().isoformat(), "exit_reason": "completed"},
                       format="json").status_code == 400
    assert client.get(url).json()["count"] == 2


def test_rag_history_and_a_rag_change(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/rag-changes/"
    assert client.post(url, {"to_status": "red"}, format="json").status_code == 400
    changed = client.post(url, {"to_status": "red", "reason": "Missed three appointments"}, format="json")
    assert changed.status_code == 201
    assert changed.json()["from_status"] == "" and changed.json()["changed_by"]
    history = client.get(url).json()
    assert history["count"] == 1 and history["results"][0]["to_status"] == "red"
    assert client.post(url, {"to_status": "red", "reason": "again"}, format="json").status_code == 400


def test_a_rag_change_from_a_status_that_moved_on_is_409(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/rag-changes/"
    assert client.post(url, {"to_status": "amber", "reason": "Engaging", "expected_status": ""},
                       format="json").status_code == 201
    stale = client.post(url, {"to_status": "green", "reason": "Doing well", "expected_status": ""}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"] == {"rag_status": "amber"} and stale.json()["version"] is None
    assert stale.json()["changed"] == {"rag_status": {"current": "amber", "yours": ""}}
    assert RagChange.objects.count() == 1


def test_appointments_record_and_outcome(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/appointments/"
    created = client.post(url, {"kind": "home_visit", "scheduled_at": "2026-03-01T10:00:00Z"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["outcome"] == "scheduled" and created.json()["staff"]
    missed = client.patch(f"{url}{created.json()['id']}/", {"outcome": "unacceptable_absence"}, format="json")
    assert missed.status_code == 200 and missed.json()["outcome"] == "unacceptable_absence"
    assert client.patch(f"{url}{created.json()['id']}/", {"outcome": "lost"}, format="json").status_code == 400
    assert client.get(url, {"outcome": "unacceptable_absence"}).json()["count"] == 1
    put = client.put(f"{url}{created.json()['id']}/", {"outcome": "unacceptable_absence"}, format="json")
    assert put.status_code == 405


@pytest.mark.parametrize("suffix", ["memberships/", "rag-changes/", "appointments/"])
def test_nested_records_of_an_unseen_person_are_404_for_reads_and_changes(partnership, api_for, suffix):
    hidden = partnership.police_only_person
    appointment = AppointmentFactory(offender=hidden)
    membership = CohortMembership.objects.create(offender=hidden, cohort=Cohort.DIP)
    client = api_for(partnership.probation_om)
    assert client.get(f"{API}/people/{hidden.pk}/{suffix}").status_code == 404
    assert client.post(f"{API}/people/{hidden.pk}/{suffix}", {}, format="json").status_code == 404
    record = {"memberships/": membership.pk, "appointments/": appointment.pk, "rag-changes/": 1}[suffix]
    assert client.get(f"{API}/people/{hidden.pk}/{suffix}{record}/").status_code == 404
    # A visible person's id with another person's record id is not a way round it either.
    visible = partnership.iom_person.pk
    assert api_for(partnership.probation_om).get(f"{API}/people/{visible}/{suffix}{record}/").status_code == 404


@pytest.mark.parametrize("suffix", ["memberships/", "rag-changes/", "appointments/"])
def test_read_only_staff_get_403_for_changes_to_a_person_they_see(partnership, api_for, suffix):
    client = api_for(partnership.police_reader)
    url = f"{API}/people/{partnership.iom_person.pk}/{suffix}"
    assert client.get(url).status_code == 200
    assert client.post(url, {}, format="json").status_code == 403


def test_housing_sees_a_case_once_it_is_shared(partnership, api_for):
    from cases import services

    client = api_for(partnership.housing_om)
    url = f"{API}/people/{partnership.police_only_person.pk}/"
    assert client.get(url).status_code == 404
    services.share_with_agency(partnership.police_om, partnership.police_only_person, partnership.housing,
                               reason="Housing referral")
    assert client.get(url).status_code == 200


# --- schema and documentation -------------------------------------------------------------


def test_schema_generates_without_warnings_and_validates(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_schema_and_docs_are_served_without_inline_script(partnership, client_for):
    client = client_for(partnership.analyst)
    schema = client.get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "/api/v1/people/" in schema.json()["paths"]
    docs = client.get(f"{API}/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "<script>" not in html and "cdn" not in html.lower()
    assert client.get(f"{API}/docs/?script=").status_code == 200


def test_the_schema_needs_sign_in(db):
    assert APIClient().get(f"{API}/schema/").status_code == 401



def test_the_api_root_lists_the_endpoints(partnership, api_for):
    root = api_for(partnership.analyst).get(f"{API}/")
    assert root.status_code == 200
    assert {"people", "actions", "measures", "panel-meetings"} <= set(root.json())


def test_a_body_in_a_media_type_not_read_is_415_as_the_schema_says(partnership, api_for, client_for):
    refused = api_for(partnership.police_om).generic("POST", f"{API}/people/", "surname=Smith",
                                                      content_type="text/plain")
    assert refused.status_code == 415 and refused.json()["detail"]
    # A form cannot say null (an empty field would quietly mean it), so bodies are JSON.
    as_form = api_for(partnership.police_om).post(f"{API}/people/", new_person(partnership), format="multipart")
    assert as_form.status_code == 415
    schema = client_for(partnership.police_om).get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    create = schema.json()["paths"]["/api/v1/people/"]["post"]
    assert "415" in create["responses"] and list(create["requestBody"]["content"]) == ["application/json"]
    assert "415" not in schema.json()["paths"]["/api/v1/panel-meetings/{id}/close/"]["post"]["responses"]
