"""Feed pages as a person reads them: dry runs, files with nothing to change, runs not imported, held rows and
their decisions, the match decision form, and the wording of changes and refusals."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Offence, Offender
from feeds import matches
from feeds.models import ImportRun, ImportUpload, PossibleMatch

from .test_feeds import OFFENCE_HEADER, command, offence_row

pytestmark = pytest.mark.django_db


def upload(client, text, kind="offences", name="offences.csv"):
    response = client.post("/feeds/", {"kind": kind, "file": SimpleUploadedFile(name, text.encode())})
    assert response.status_code == 302, response.content.decode()
    return ImportRun.objects.order_by("-pk").first()


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def held_row(reference, person):
    return offence_row(reference, pnc="", last_name=person.last_name, dob=person.date_of_birth.isoformat())


# -- 1. A command-line dry run is a check that can never be imported -----------------------------------------------


def test_a_command_line_dry_run_is_shown_as_checked_only_and_never_offers_the_import(partnership, client_for,
                                                                                     tmp_path):
    good = tmp_path / "offences-new.csv"
    good.write_text(OFFENCE_HEADER + offence_row("D1"))
    code, _, _ = command("offences", str(good), "--user", "police.om", "--dry-run")
    run = ImportRun.objects.get()
    assert code == 0 and run.status == "dry_run" and run.is_finished
    client = client_for(partnership.police_om)
    listing = page(client, "/feeds/runs/")
    assert "Checked only (dry run): nothing written" in listing and "ready to import" not in listing
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert "Import the file" not in shown and "Checked only: nothing was written" in shown
    client.post(f"/feeds/runs/{run.pk}/apply/")
    run.refresh_from_db()
    assert run.status == "dry_run" and not run.error and not Offence.objects.exists()


# -- 2. A file with nothing to change says so, and the run is finished ----------------------------------------------


def test_a_file_where_every_row_is_up_to_date_says_there_is_nothing_to_import(partnership, client_for, api_for):
    client = client_for(partnership.police_om)
    text = OFFENCE_HEADER + offence_row("U1")
    first = upload(client, text)
    client.post(f"/feeds/runs/{first.pk}/apply/")
    assert Offence.objects.count() == 1
    again = upload(client, text)
    assert again.status == "up_to_date" and again.unchanged == 1 and again.is_finished
    assert not ImportUpload.objects.filter(run=again).exists()
    shown = page(client, f"/feeds/runs/{again.pk}/")
    assert "Nothing to import" in shown and "already up to date" in shown and "Import the file" not in shown
    assert 'href="/feeds/runs/"' in shown and 'href="/feeds/?kind=offences"' in shown
    listing = page(client, "/feeds/runs/")
    assert "ready to import" not in listing and "Nothing to change: 1 already up to date" in listing
    refused = api_for(partnership.police_om).post(f"/api/v1/feed-runs/{again.pk}/apply/")
    assert refused.status_code == 409 and "already up to date" in refused.json()["detail"]


# -- 3. A run not imported says what would have happened; the command's last line keeps its form -------------------


def test_a_run_not_imported_words_its_counts_as_what_would_have_happened(partnership, client_for, tmp_path):
    client = client_for(partnership.police_om)
    text = OFFENCE_HEADER + offence_row("R1") + offence_row("R2", group="nonsense")
    run = upload(client, text)
    assert run.status == "rejected"
    listing = page(client, "/feeds/runs/")
    assert "would add 1" in listing and "created 1" not in listing
    assert "Would add" in page(client, f"/feeds/runs/{run.pk}/")
    bad = tmp_path / "offences-bad.csv"
    bad.write_text(text)
    code, out, _ = command("offences", str(bad), "--user", "police.om")
    assert code == 1 and out[-1] == "created 1, updated 0, unchanged 0, rejected 1, possible matches 0"
    assert "nothing written" in out[0] and any(line.startswith("Nothing was written") for line in out)
    assert not Offence.objects.exists()


# -- 4. Held rows show their decision; the run links to the queue while any waits -----------------------------------


def test_the_run_page_shows_each_held_rows_decision_and_links_to_the_queue_while_rows_wait(partnership, client_for):
    jordan, casey = partnership.iom_person, partnership.police_only_person
    client = client_for(partnership.police_om)
    run = upload(client, OFFENCE_HEADER + offence_row("OK1") + held_row("M1", jordan) + held_row("M2", casey)
                 + held_row("M3", jordan))
    client.post(f"/feeds/runs/{run.pk}/apply/")
    run.refresh_from_db()
    assert run.status == "applied" and run.created == 1 and run.possible_matches == 3
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert 'href="/feeds/matches/"' in shown and shown.count("Nothing is changed until the match is confirmed") == 3

    held = {match.row_number: match for match in PossibleMatch.objects.filter(run=run)}
    matches.confirm(partnership.police_om, held[3], jordan)
    matches.reject(partnership.police_om, held[4])
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert "Confirmed and applied to Jordan Ashworth." in shown and "Turned down: the row is not about" in shown
    assert "(2 decided, 1 waiting)" in shown
    assert shown.count("Nothing is changed until the match is confirmed") == 1
    assert 'href="/feeds/matches/"' in shown  # row 5 still waits
    run.refresh_from_db()
    assert run.created == 2 and 'Added</dt><dd class="govuk-summary-list__value">2</dd>' in shown

    matches.confirm(partnership.police_om, held[5], jordan)
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert 'href="/feeds/matches/"' not in shown and "Nothing is changed until" not in shown
    assert Offence.objects.filter(offender=jordan).count() == 3  # OK1 by PNC, M1 and M3 once confirmed


def test_a_decision_never_names_a_person_the_viewer_may_no_longer_see(partnership, client_for):
    jordan = partnership.iom_person  # seen by probation while on IOM
    client = client_for(partnership.probation_om)
    run = upload(client, OFFENCE_HEADER + held_row("P1", jordan))
    client.post(f"/feeds/runs/{run.pk}/apply/")
    matches.confirm(partnership.probation_om, PossibleMatch.objects.get(), jordan)
    assert "Confirmed and applied to Jordan Ashworth." in page(client, f"/feeds/runs/{run.pk}/")
    jordan.cohort_memberships.update(ended_on=datetime.date.today(), exit_reason="completed")
    assert not Offender.objects.visible_to(partnership.probation_om).filter(pk=jordan.pk).exists()
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert "Confirmed and applied." in shown and "Ashworth" not in shown


# -- 5. The match decision form shows its error as GOV.UK forms do -----------------------------------------------


def test_a_match_decision_with_no_choice_shows_the_error_summary_and_the_field_error(partnership, client_for):
    client = client_for(partnership.police_om)
    run = upload(client, OFFENCE_HEADER + held_row("E1", partnership.iom_person))
    client.post(f"/feeds/runs/{run.pk}/apply/")
    held = PossibleMatch.objects.get()
    response = client.post(f"/feeds/matches/{held.pk}/", {})
    shown = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in shown and "There is a problem" in shown
    assert 'class="govuk-error-message" id="decision-error"' in shown and "govuk-form-group--error" in shown
    assert "govuk-notification-banner" not in shown and "<title>Error: " in shown
    held.refresh_from_db()
    assert held.status == "waiting"


# -- 6. Wording ------------------------------------------------------------------------------------------------------


def test_changes_and_refusals_read_naturally(partnership, client_for, tmp_path):
    client = client_for(partnership.police_om)
    run = upload(client, OFFENCE_HEADER + offence_row("W1"))
    shown = page(client, f"/feeds/runs/{run.pk}/")
    assert "Adds a theft offence on 10 January 2026" in shown and "What will change" in shown
    assert "adds theft offences" not in shown.lower() and "10/01/2026" not in shown
    client.post(f"/feeds/runs/{run.pk}/apply/")
    assert "What changed" in page(client, f"/feeds/runs/{run.pk}/")

    wrong = upload(client, "pnc_number,first_names\n2015/0123456X,A\n")
    shown = page(client, f"/feeds/runs/{wrong.pk}/")
    assert "not for the offences feed" in shown and "not a offences" not in shown
    assert 'href="/feeds/offences/template.csv"' in shown

    one = tmp_path / "offences-new.csv"
    one.write_text(OFFENCE_HEADER + offence_row("W2"))
    _, out, _ = command("offences", str(one), "--user", "police.om", "--dry-run")
    assert out[0].startswith("offences-new.csv (offences, 1 row):")


def test_every_offence_group_has_its_singular_wording():
    from cases.models import ONE_OFFENCE

    assert set(ONE_OFFENCE) == set(Offence.Group)
