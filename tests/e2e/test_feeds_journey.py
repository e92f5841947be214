"""Journey: an offender manager imports offences from a partner system's file in the browser. The check
shows what will change and holds a row that matches someone only by name and date of birth; the import
goes ahead, the held row is decided in the possible-match queue (a decision left blank is an error the
GOV.UK way), and the run then shows what happened to it. Every page passes axe."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Offence
from feeds.models import PossibleMatch

from ..test_feeds import OFFENCE_HEADER, offence_row
from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_offender_manager_imports_offences_and_decides_a_possible_match(journey, partnership, tmp_path):
    p = partnership
    person = p.iom_person
    sent = tmp_path / "niche-offences.csv"
    sent.write_text(OFFENCE_HEADER + offence_row("N1") + offence_row(
        "N2", pnc="", last_name=person.last_name, dob=person.date_of_birth.isoformat(), group="burglary"))
    give_authenticator_app(p.police_om)
    j = journey("offender manager imports offences")
    j.sign_in(p.police_om)
    j.visit("/feeds/")
    j.expect_heading("Import a file")
    j.checkpoint("upload")
    j.choose("Offences and outcomes")
    j.page.get_by_label("Upload a file").set_input_files(str(sent))
    j.press("Check the file")

    j.expect_heading("Check the import")
    expect(j.page.get_by_text("Adds a theft offence on 10 January 2026")).to_be_visible()
    j.checkpoint("check the import")
    assert not Offence.objects.filter(source_reference__in=["N1", "N2"]).exists(), "nothing saved before confirming"
    j.press("Import the file")
    expect(j.page.get_by_role("heading", name="Import complete")).to_be_visible()
    j.checkpoint("import complete")
    assert Offence.objects.filter(source_reference="N1", offender=person).exists()
    assert not Offence.objects.filter(source_reference="N2").exists(), "the held row waits for a decision"

    j.follow("Review possible matches")
    j.expect_heading("Possible matches")
    j.checkpoint("possible matches")
    j.follow(f"Row 3 of {sent.name}")
    j.expect_heading("Who is row 3 about?")
    j.press("Save decision")
    expect(j.page.get_by_role("heading", name="There is a problem")).to_be_visible()
    j.checkpoint("decision left blank")
    j.page.get_by_role("radio", name=re.compile(f"^{person.full_name}, born")).check()
    j.press("Save decision")
    j.expect_success("Confirmed")
    assert Offence.objects.filter(source_reference="N2", offender=person).exists()
    assert PossibleMatch.objects.get().status == "confirmed"
