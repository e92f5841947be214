"""API tokens: hashed, expiring, listed and withdrawn by their owner only, in the API and in the browser."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from cases.models import AccessLogEntry

API = "/api/v1"


def token_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def issue(client, name=""):
    response = client.post(f"{API}/token/", {"name": name} if name else {})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_token_is_stored_only_as_a_hash_and_shown_once(partnership, client_for):
    issued = issue(client_for(partnership.police_om), name="Probation case system")
    token = issued["token"]
    assert token.startswith("reo_") and len(token) > 60
    record = ApiToken.objects.get(pk=issued["id"])
    stored = [str(value) for value in ApiToken.objects.filter(pk=record.pk).values_list().get()]
    assert token not in stored and not any(token[4:20] in value for value in stored)
    assert record.name == "Probation case system"
    # Listing never shows the token again.
    listed = token_client(token).get(f"{API}/tokens/").json()
    assert token not in str(listed)
    assert listed["results"][0]["id"] == record.pk and listed["results"][0]["in_use"] is True


def test_tokens_expire_after_the_configured_days_and_an_expired_token_is_refused(partnership, client_for):
    client = client_for(partnership.police_om)
    issued = issue(client)
    expiry = datetime.datetime.fromisoformat(issued["expires_at"])
    assert abs(expiry - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    with override_settings(REST_KNOX={"TOKEN_TTL": datetime.timedelta(days=2), "TOKEN_PREFIX": "reo_"}):
        short = issue(client)
    short_expiry = datetime.datetime.fromisoformat(short["expires_at"])
    assert abs(short_expiry - (timezone.now() + datetime.timedelta(days=2))) < datetime.timedelta(minutes=1)

    ApiToken.objects.filter(pk=issued["id"]).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert token_client(issued["token"]).get(f"{API}/people/").status_code == 401
    assert not ApiToken.objects.filter(pk=issued["id"]).exists()
    assert token_client(short["token"]).get(f"{API}/people/").status_code == 200


def test_every_token_has_an_expiry_in_the_database(partnership):
    from django.db import IntegrityError, transaction

    record, _token = ApiToken.objects.create(user=partnership.police_om)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.filter(pk=record.pk).update(expiry=None)


def test_last_use_is_recorded_at_most_once_a_minute(partnership, client_for):
    issued = issue(client_for(partnership.police_om))
    client = token_client(issued["token"])
    assert ApiToken.objects.get(pk=issued["id"]).last_used_at is None
    client.get(f"{API}/people/")
    first = ApiToken.objects.get(pk=issued["id"]).last_used_at
    assert first is not None and timezone.now() - first < datetime.timedelta(seconds=30)
    client.get(f"{API}/people/")
    assert ApiToken.objects.get(pk=issued["id"]).last_used_at == first
    ApiToken.objects.filter(pk=issued["id"]).update(last_used_at=first - datetime.timedelta(minutes=5))
    client.get(f"{API}/people/")
    assert ApiToken.objects.get(pk=issued["id"]).last_used_at > first


def test_a_token_of_a_deactivated_user_is_refused(partnership, api_for):
    client = api_for(partnership.police_om)
    partnership.police_om.is_active = False
    partnership.police_om.save()
    assert client.get(f"{API}/people/").status_code == 401


def test_delete_with_a_token_withdraws_only_that_token(partnership, client_for):
    session = client_for(partnership.police_om)
    first, second = issue(session, "first"), issue(session, "second")
    assert token_client(first["token"]).delete(f"{API}/token/").status_code == 204
    assert token_client(first["token"]).get(f"{API}/people/").status_code == 401
    assert token_client(second["token"]).get(f"{API}/people/").status_code == 200


def test_a_user_withdraws_one_of_their_tokens_but_never_someone_elses(partnership, client_for, api_for):
    mine = issue(client_for(partnership.police_om), "mine")
    theirs, _ = ApiToken.objects.create(user=partnership.probation_om)
    client = token_client(mine["token"])
    assert [t["id"] for t in client.get(f"{API}/tokens/").json()["results"]] == [mine["id"]]
    assert client.get(f"{API}/tokens/{theirs.pk}/").status_code == 404
    assert client.delete(f"{API}/tokens/{theirs.pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    other = api_for(partnership.police_om)
    assert other.delete(f"{API}/tokens/{mine['id']}/").status_code == 204
    assert client.get(f"{API}/people/").status_code == 401


def test_issuing_stops_at_the_limit_with_a_reason(partnership, client_for, settings):
    settings.API_TOKEN_LIMIT = 2
    client = client_for(partnership.police_om)
    issue(client)
    issue(client)
    refused = client.post(f"{API}/token/")
    assert refused.status_code == 400
    assert "Withdraw one" in str(refused.json())
    assert ApiToken.objects.filter(user=partnership.police_om).count() == 2


def test_issuing_and_withdrawing_are_in_the_access_log_without_the_token(partnership, client_for):
    client = client_for(partnership.police_om)
    issued = issue(client, "Nightly sync")
    client.delete(f"{API}/token/")
    entries = AccessLogEntry.objects.filter(object_type="accounts.apitoken", username="police.om")
    assert [e.action for e in entries.order_by("pk")] == ["create", "delete"]
    assert "Nightly sync" in entries.order_by("pk")[0].detail
    assert all(issued["token"] not in e.detail for e in entries)


def test_the_old_plain_text_token_table_is_gone(db):
    assert "authtoken_token" not in connection.introspection.table_names()


# --- in the browser -----------------------------------------------------------------------------


def test_the_tokens_page_lists_created_expiry_and_last_use_and_issues_a_token_once(partnership, client_for):
    client = client_for(partnership.police_om)
    page = client.get("/account/api-tokens/")
    assert page.status_code == 200 and "You have no current API tokens" in page.content.decode()

    created = client.post("/account/api-tokens/", {"name": "Council housing sync"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    record = ApiToken.objects.get(user=partnership.police_om)
    body = created.content.decode()
    token = body.split('id="api-token">')[1].split("<")[0]
    assert token.startswith("reo_")
    assert token_client(token).get(f"{API}/people/").status_code == 200

    listing = client.get("/account/api-tokens/").content.decode()
    assert "Council housing sync" in listing and token not in listing
    assert timezone.localtime(record.created).strftime("%-d %b %Y") in listing
    assert timezone.localtime(record.expiry).strftime("%-d %b %Y") in listing
    assert "Never" not in listing  # it was used just now


def test_withdrawing_one_token_and_all_tokens_in_the_browser(partnership, client_for):
    client = client_for(partnership.police_om)
    first, first_token = ApiToken.objects.create(user=partnership.police_om, name="first")
    _second, second_token = ApiToken.objects.create(user=partnership.police_om, name="second")
    confirm = client.get(f"/account/api-tokens/{first.pk}/withdraw/")
    assert confirm.status_code == 200 and "Withdraw this API token?" in confirm.content.decode()
    assert ApiToken.objects.filter(pk=first.pk).exists()  # a GET changes nothing
    done = client.post(f"/account/api-tokens/{first.pk}/withdraw/", follow=True)
    assert "has been withdrawn" in done.content.decode()
    assert token_client(first_token).get(f"{API}/people/").status_code == 401
    assert token_client(second_token).get(f"{API}/people/").status_code == 200

    ApiToken.objects.create(user=partnership.probation_om)
    client.post("/account/api-tokens/withdraw-all/")
    assert not ApiToken.objects.filter(user=partnership.police_om).exists()
    assert ApiToken.objects.filter(user=partnership.probation_om).count() == 1


def test_another_users_token_cannot_be_withdrawn_in_the_browser(partnership, client_for):
    theirs, _ = ApiToken.objects.create(user=partnership.probation_om)
    client = client_for(partnership.police_om)
    assert client.get(f"/account/api-tokens/{theirs.pk}/withdraw/").status_code == 404
    assert client.post(f"/account/api-tokens/{theirs.pk}/withdraw/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_the_limit_is_shown_as_a_form_error(partnership, client_for, settings):
    settings.API_TOKEN_LIMIT = 1
    client = client_for(partnership.police_om)
    client.post("/account/api-tokens/", {"name": "one"})
    refused = client.post("/account/api-tokens/", {"name": "two"})
    assert refused.status_code == 200
    assert "There is a problem" in refused.content.decode()
    assert ApiToken.objects.filter(user=partnership.police_om).count() == 1
