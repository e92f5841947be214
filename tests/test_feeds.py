"""Fact feeds: each feed, idempotent re-import, corrections, matching and its refusals, the possible-match queue,
runs, the landing-folder sweep, the command line and the API."""

import datetime
import io
import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cases.models import (
    AccessLogEntry,
    Appointment,
    CohortMembership,
    Offence,
    Offender,
    RagChange,
    Requirement,
    Supervision,
)
from dashboard.models import Dimension, RollupValue
from dashboard.periods import Quarter
from dashboard.rollup import run_rollup
from feeds import landing, matches
from feeds.catalogue import FEEDS, LOAD_ORDER
from feeds.importing import import_file
from feeds.models import FeedSource, ImportRun, PossibleMatch
from feeds.reading import FeedFile, FileRejected
from pathways.models import AccommodationStatus, TreatmentEngagement

from .factories import AliasFactory

SAMPLES = Path(__file__).parent / "data" / "feeds"
pytestmark = pytest.mark.django_db


def run_feed(kind, user, content, *, dry_run=False, name=None):
    content = content if isinstance(content, bytes) else content.encode()
    name = name or f"{kind}.csv"
    run = ImportRun.objects.create(kind=kind, filename=name, channel="command", user=user, agency=user.agency)
    return import_file(FEEDS[kind], user, FeedFile(name, content=content), dry_run=dry_run, run=run)


def load_samples(user, kinds=LOAD_ORDER):
    reports = {}
    for kind in kinds:
        reports[kind] = run_feed(kind, user, (SAMPLES / f"{kind}.csv").read_bytes())
        assert not reports[kind].has_rejections, reports[kind].rejected_rows
    return reports


OFFENCE_HEADER = "source_system,source_reference,pnc_number,crn,last_name,date_of_birth,committed_on,offence_group," \
                 "outcome,outcome_on\n"


def offence_row(reference, pnc="2015/0123456X", crn="", last_name="", dob="", committed="2026-01-10",
                group="theft", outcome="convicted", outcome_on="2026-02-01"):
    return f"police-niche,{reference},{pnc},{crn},{last_name},{dob},{committed},{group},{outcome},{outcome_on}\n"


# -- The sample files: a partnership's whole history, and the measures that come out of it ----------------------

Q1 = Quarter.from_key("2024-04-01")  # April to June 2024
Q2 = Q1.next()


def figure(measure, quarter=Q1, category=""):
    value = RollupValue.objects.filter(measure=measure, period_start=quarter.start, dimension=Dimension.ALL,
                                       slice_key="", category=category).first()
    return (value.numerator, value.denominator) if value else (0, None)


def test_a_partnership_history_loads_from_the_sample_files_and_the_measures_come_out_by_hand(partnership):
    reports = load_samples(partnership.police_om)
    assert {kind: report.counts["rejected"] for kind, report in reports.items()} == dict.fromkeys(LOAD_ORDER, 0)
    assert Offender.objects.filter(pnc_number__startswith="2011/09").count() == 6
    run_rollup(quarters=[Q1, Q2])
    # Cohort: Alfie, Bella, Callum, Dana, Ethan and Freya all joined in April to June 2024.
    assert figure("cohort_entries") == (6, None)
    assert figure("cohort_exits", Q2) == (1, None)  # Freya completed Checkpoint in September
    # Reoffending cohort of the quarter: Alfie (release 5 Apr), Bella (community order 17 Apr), Ethan (caution
    # 3 May), Callum (release 10 May), Dana (suspended sentence 12 Jun). Reoffended: Alfie (theft 15 Jul,
    # convicted; the burglary is only charged), Callum (assault 20 Jun convicted, drugs 11 Aug cautioned) and
    # Ethan (criminal damage 20 Nov, convicted). Bella's offence ended in no further action.
    assert figure("proven_reoffending") == (3, 5)
    assert figure("reoffences_per_reoffender") == (4, 3)
    # RAG on 30 June 2024: Alfie amber, Dana amber, Callum red, Bella, Ethan and Freya green.
    assert [figure("rag_mix", category=c)[0] for c in ("red", "amber", "green")] == [1, 2, 3]
    # Movement: six first statuses; Alfie amber to red (worse) and back to amber, Ethan amber to green.
    assert [figure("rag_movement", category=c)[0] for c in ("first", "improved", "worsened")] == [6, 2, 1]
    # Starts of orders and licences: Alfie missed two appointments in his first month, Callum one (failing to
    # comply at an appointment is not missing it), Bella (an acceptable absence) and Dana none.
    assert [figure("missed_first_month", category=c)[0] for c in ("none", "one", "two_or_more")] == [2, 1, 1]
    # Released: Alfie to a hostel bed, Callum with no fixed abode.
    assert figure("accommodation_on_release") == (1, 2)


def test_each_feed_made_what_its_rows_say(partnership):
    load_samples(partnership.police_om)
    alfie = Offender.objects.get(pnc_number="2011/0900001A")
    licence = alfie.supervisions.get()
    assert licence.is_friday_release and licence.release_type == "planned" and licence.source_system == "ndelius"
    assert list(licence.requirements.values_list("kind", flat=True)) == [Requirement.Kind.DRR]
    callum = Offender.objects.get(pnc_number="2011/0900003C")
    assert sorted(callum.supervisions.get().requirements.values_list("kind", flat=True)) == ["atr", "mhtr"]
    caution = callum.offences.get(source_reference="CR-24-0302")
    assert caution.outcome == Offence.Outcome.CAUTION and caution.drug_related and caution.is_proven
    assert alfie.offences.get(source_reference="CR-24-0103").outcome == Offence.Outcome.CHARGED
    assert AccommodationStatus.objects.get(source_reference="HSG-503").on_release_day
    assert TreatmentEngagement.objects.get(offender=alfie).requirement == "drr"
    absence = Appointment.objects.get(source_reference="APT-5")
    assert (absence.outcome, absence.absence_reason) == ("acceptable_absence", "medical")
    freya = Offender.objects.get(pnc_number="2011/0900006F")
    exit_ = freya.cohort_memberships.get()
    assert (exit_.ended_on, exit_.exit_reason, exit_.exit_source_reference) == (
        datetime.date(2024, 9, 20), "completed", "EXIT-31")
    assert [c.to_status for c in alfie.rag_changes.order_by("changed_at")] == ["amber", "red", "amber"]
    assert [c.from_status for c in alfie.rag_changes.order_by("changed_at")] == ["", "amber", "red"]
    alfie.refresh_from_db()
    assert alfie.rag_status == "amber"
    assert FeedSource.objects.filter(agency=partnership.police).count() == 5
    assert AccessLogEntry.objects.filter(action="import", object_type="cases.offence").count() == 10


def test_importing_the_same_files_again_changes_nothing(partnership):
    load_samples(partnership.police_om)
    counts = [model.objects.count() for model in (Offender, Offence, Supervision, Requirement, Appointment,
                                                  RagChange, CohortMembership, AccessLogEntry)]
    for kind in LOAD_ORDER:
        report = run_feed(kind, partnership.police_om, (SAMPLES / f"{kind}.csv").read_bytes())
        assert report.counts["created"] == report.counts["updated"] == report.counts["rejected"] == 0, kind
    assert counts == [model.objects.count() for model in (Offender, Offence, Supervision, Requirement, Appointment,
                                                          RagChange, CohortMembership, AccessLogEntry)]


def test_the_sample_files_load_into_the_demo_with_the_command_and_a_second_run_changes_nothing(db, capsys):
    from synthetic.management.commands import seed_demo  # noqa: F401 - the command must exist

    call_command("seed_demo", verbosity=0)
    capsys.readouterr()
    for attempt in (1, 2):
        for kind in LOAD_ORDER:
            with pytest.raises(SystemExit) as ended:
                call_command("import_feed", kind, str(SAMPLES / f"{kind}.csv"), "--user", "om.police")
                raise SystemExit(0)
            output = capsys.readouterr().out.strip().splitlines()
            assert ended.value.code == 0, output
            assert output[-1].startswith("created ") and output[-1].count(",") == 4
            if attempt == 2:
                assert output[-1].startswith("created 0, updated 0, "), (kind, output[-1])


# -- Corrections, and what is refused ------------------------------------------------------------------------------


def test_a_corrected_row_updates_the_record_it_made_and_the_change_is_logged(partnership):
    user = partnership.police_om
    run_feed("offences", user, OFFENCE_HEADER + offence_row("A1", outcome="pending", outcome_on=""))
    offence = Offence.objects.get()
    report = run_feed("offences", user, OFFENCE_HEADER + offence_row("A1", outcome="cautioned"))
    assert report.line() == "created 0, updated 1, unchanged 0, rejected 0, possible matches 0"
    offence.refresh_from_db()
    assert offence.outcome == "caution" and offence.outcome_on == datetime.date(2026, 2, 1)
    entry = AccessLogEntry.objects.filter(action="change", object_type="cases.offence").get()
    assert "outcome" in entry.detail and entry.offender_id == partnership.iom_person.pk


def test_a_correction_to_an_order_replaces_its_requirements(partnership):
    header = "source_system,source_reference,crn,kind,started_on,requirements\n"
    run_feed("orders", partnership.police_om, header + "ndelius,O1,X123456,community_order,2026-01-05,drr; atr\n")
    run_feed("orders", partnership.police_om, header + "ndelius,O1,X123456,community_order,2026-01-05,rar\n")
    assert list(Requirement.objects.values_list("kind", flat=True)) == ["rar"]


@pytest.mark.parametrize(("row", "reason"), [
    (offence_row("B1", committed="2099-01-01", outcome="pending", outcome_on=""), "cannot be in the future"),
    (offence_row("B1", outcome_on="2099-02-01"), "cannot be in the future"),
    (offence_row("B1", outcome="pending", outcome_on="2026-02-01"), "only once there is an outcome"),
    (offence_row("B1", outcome="guilty"), "outcome: Use one of"),
    (offence_row("B1", group="shoplifting"), "offence_group: Use one of"),
    (offence_row("B1", committed="31/02/2026"), "committed_on: Enter a date"),
    (offence_row("B1", pnc="", last_name="", dob=""), "Give a PNC number, CRN or prison number"),
    (offence_row("B1", pnc="12345"), "PNC number in the format"),
    (offence_row("B1", pnc="2015/0123456X", crn="Y999999"), "is not Jordan Ashworth's"),
])
def test_bad_rows_are_rejected_with_their_reason_and_nothing_is_written(partnership, row, reason):
    report = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("GOOD") + row)
    assert not report.applied and report.counts["rejected"] == 1 and not Offence.objects.exists()
    assert any(reason in text for text in report.rejected_rows[0]["reasons"]), report.rejected_rows


def test_duplicate_source_references_in_one_file_are_rejected(partnership):
    report = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("D1") + offence_row("D1"))
    assert report.rejected_rows[0]["row"] == 3 and "same source reference is on row 2" in \
        report.rejected_rows[0]["reasons"][0]


def test_new_offences_and_their_access_log_entries_are_written_with_every_value(partnership):
    user, person = partnership.police_om, partnership.iom_person
    before = timezone.now()
    report = run_feed("offences", user, OFFENCE_HEADER + offence_row("N1") + offence_row(
        "N2", outcome="pending", outcome_on=""), name="police.csv")
    assert report.line() == "created 2, updated 0, unchanged 0, rejected 0, possible matches 0"
    convicted, pending = Offence.objects.order_by("source_reference")
    assert (convicted.offender, convicted.outcome, convicted.outcome_on, convicted.committed_on) == (
        person, "conviction", datetime.date(2026, 2, 1), datetime.date(2026, 1, 10))
    assert (pending.outcome, pending.outcome_on, pending.drug_related, pending.court) == ("pending", None, False, "")
    assert convicted.recorded_by_agency == user.agency and convicted.recorded_at >= before
    entries = AccessLogEntry.objects.filter(action="import").order_by("object_id")
    assert [(e.user_id, e.username, e.agency_id, e.object_type, e.object_id, e.offender_id, e.detail)
            for e in entries] == [
        (user.pk, "police.om", user.agency_id, "cases.offence", str(offence.pk), person.pk, "Imported from police.csv")
        for offence in sorted([convicted, pending], key=lambda offence: str(offence.pk))
    ]
    assert all(entry.occurred_at >= before for entry in entries)


def test_the_same_field_problem_on_many_rows_is_reported_on_each(partnership):
    header = "source_system,source_reference,pnc_number,committed_on,offence_group,description\n"
    long = "x" * 201
    report = run_feed("offences", partnership.police_om, header + "".join(
        f"police-niche,L{number},2015/0123456X,2026-01-10,theft,{long}\n" for number in range(3)))
    assert report.counts["rejected"] == 3 and not Offence.objects.exists()
    assert all(any(reason.startswith("description: Ensure this value has at most 200 characters") for reason in
                   row["reasons"]) for row in report.rejected_rows)


def test_a_row_rejected_in_a_later_chunk_leaves_nothing_from_the_earlier_ones(partnership, monkeypatch):
    from feeds import importing

    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    report = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("C1") + offence_row("C2")
                      + offence_row("C3", group="shoplifting"))
    assert report.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1, "possible": 0}
    assert not report.applied
    assert not Offence.objects.exists() and not AccessLogEntry.objects.filter(action="import").exists()
    assert not FeedSource.objects.exists()


def test_a_row_the_database_refuses_as_it_is_copied_in_leaves_the_file_unimported(partnership, monkeypatch):
    user = partnership.police_om
    run_feed("offences", user, OFFENCE_HEADER + offence_row("R1"))
    # Someone else's import wrote the same reference after this one looked for it.
    monkeypatch.setattr(FEEDS["offences"].__class__, "existing_records", lambda self, context, keys: {})
    with pytest.raises(FileRejected, match="Someone else changed the same records"):
        run_feed("offences", user, OFFENCE_HEADER + offence_row("R2") + offence_row("R1"))
    assert list(Offence.objects.values_list("source_reference", flat=True)) == ["R1"]
    assert AccessLogEntry.objects.filter(action="import").count() == 1


def test_an_attendance_in_the_future_is_refused(partnership):
    later = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    header = "source_system,source_reference,crn,scheduled_at,kind,outcome\n"
    report = run_feed("appointments", partnership.police_om,
                      header + f"ndelius,P1,X123456,{later},supervision,attended_complied\n"
                      f"ndelius,P2,X123456,{later},supervision,scheduled\n")
    assert report.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1, "possible": 0}
    assert "has not happened yet" in report.rejected_rows[0]["reasons"][0]


def test_a_rag_change_dated_in_the_future_is_refused_and_a_past_one_backfills(partnership):
    header = "source_system,source_reference,crn,rag_status,changed_at,reason\n"
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    refused = run_feed("rag", partnership.police_om, header + f"police-niche,R1,X123456,red,{future},Arrested\n")
    assert "cannot be in the future" in refused.rejected_rows[0]["reasons"][0]
    report = run_feed("rag", partnership.police_om, header + "police-niche,R1,X123456,red,2025-01-03,Arrested\n"
                      "police-niche,R2,X123456,green,2025-06-01 09:15,Engaging\n")
    assert report.counts["created"] == 2
    person = partnership.iom_person
    person.refresh_from_db()
    assert person.rag_status == "green"
    assert timezone.localtime(person.rag_changes.get(source_reference="R1").changed_at).hour == 12


def test_a_cohort_exit_needs_the_person_on_the_cohort(partnership):
    header = "source_system,source_reference,crn,cohort,ended_on,exit_reason\n"
    report = run_feed("cohort-exits", partnership.police_om, header + "police-niche,E1,X123456,mappa,2026-01-01,"
                      "completed\n")
    assert "is not on MAPPA" in report.rejected_rows[0]["reasons"][0]


def test_a_source_system_of_another_agency_cannot_be_used(partnership):
    FeedSource.objects.create(name="police-niche", agency=partnership.police)
    report = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("S1"))
    assert "registered to another agency" in report.rejected_rows[0]["reasons"][0]


def test_statuses_check_each_pathway_own_values(partnership):
    header = "source_system,source_reference,crn,pathway,status,effective_on,substance\n"
    report = run_feed("statuses", partnership.police_om, header + "dwp,S1,X123456,ete,settled,2026-01-01,\n"
                      "wdp,S2,X123456,treatment,in_treatment,2026-01-01,\n")
    reasons = [row["reasons"][0] for row in report.rejected_rows]
    assert reasons[0].startswith("status: Use one of employed") and "substance: Give drugs or alcohol" in reasons[1]


# -- Matching, and never disclosing a person the importer may not see ---------------------------------------------


def test_a_row_for_a_person_the_importer_may_not_see_reads_exactly_like_a_row_for_nobody(partnership):
    hidden = partnership.police_only_person  # led by police, on no cohort probation's agreement opens
    unseen = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("H1", pnc=hidden.pnc_number))
    nobody = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("H1", pnc="2001/0000001A"))
    assert unseen.rejected_rows == nobody.rejected_rows  # same row number, person, reasons
    assert "Blackwood" not in str(unseen.as_json()) and "Casey" not in str(unseen.as_json())
    assert not Offence.objects.exists()


def test_a_reference_made_for_a_person_later_hidden_is_reported_as_no_match(partnership):
    run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("V1"))
    CohortMembership.objects.filter(offender=partnership.iom_person).update(ended_on=timezone.localdate(),
                                                                           exit_reason="completed")
    again = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("V1", outcome="acquitted"))
    nobody = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + offence_row("V1", pnc="2001/0000001A"))
    assert again.rejected_rows[0]["reasons"] == nobody.rejected_rows[0]["reasons"]
    assert Offence.objects.get().outcome == "conviction"


def test_name_and_date_of_birth_matches_only_among_people_the_importer_may_see(partnership):
    hidden = partnership.police_only_person
    row = offence_row("N1", pnc="", last_name=hidden.last_name, dob=hidden.date_of_birth.isoformat())
    report = run_feed("offences", partnership.probation_om, OFFENCE_HEADER + row)
    assert report.counts["rejected"] == 1 and report.counts["possible"] == 0
    assert not PossibleMatch.objects.exists()


def test_a_possible_match_is_held_then_confirmed_and_applied(partnership):
    jordan = partnership.iom_person
    row = offence_row("M1", pnc="", last_name="ashworth", dob=jordan.date_of_birth.isoformat())
    report = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("OK1") + row)
    assert report.line() == "created 1, updated 0, unchanged 0, rejected 0, possible matches 1"
    assert Offence.objects.count() == 1  # the held row changes nothing
    held = PossibleMatch.objects.get()
    assert list(held.candidates.all()) == [jordan] and held.basis == "name_dob"
    again = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("OK1") + row)
    assert again.counts["possible"] == 1 and PossibleMatch.objects.count() == 1  # not held twice
    matches.confirm(partnership.police_om, held, jordan)
    assert Offence.objects.filter(offender=jordan, source_reference="M1").exists()
    held.refresh_from_db()
    assert held.status == "confirmed" and held.applied_to == jordan
    after = run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("OK1") + row)
    assert after.line() == "created 0, updated 0, unchanged 2, rejected 0, possible matches 0"


def test_a_possible_match_found_through_an_alias_can_be_rejected(partnership, client_for):
    jordan = partnership.iom_person
    AliasFactory(offender=jordan, name="Jay Smith")
    row = offence_row("M2", pnc="", last_name="Smith", dob=jordan.date_of_birth.isoformat()).replace(
        ",Smith,", ",Smith,")
    header = OFFENCE_HEADER.replace("last_name", "first_names,last_name")
    row = row.replace(",Smith,", ",Jay,Smith,")
    run_feed("offences", partnership.police_om, header + row)
    held = PossibleMatch.objects.get()
    assert held.basis == "alias_dob"
    client = client_for(partnership.police_om)
    assert "Row 2 of offences.csv" in client.get("/feeds/matches/").content.decode()
    page = client.get(f"/feeds/matches/{held.pk}/").content.decode()
    assert "Jordan Ashworth" in page and "Jay" in page
    assert client.post(f"/feeds/matches/{held.pk}/", {"decision": "reject"}).status_code == 302
    held.refresh_from_db()
    assert held.status == "rejected" and not Offence.objects.exists()
    again = run_feed("offences", partnership.police_om, header + row)
    assert again.counts["rejected"] == 1  # a rejected match is not offered again


def test_only_the_reviewing_agency_sees_or_decides_a_possible_match(partnership, client_for):
    jordan = partnership.iom_person
    run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row(
        "M3", pnc="", last_name="Ashworth", dob=jordan.date_of_birth.isoformat()))
    held = PossibleMatch.objects.get()
    for outsider in (partnership.probation_om, partnership.housing_om, partnership.police_reader):
        client = client_for(outsider)
        assert client.get(f"/feeds/matches/{held.pk}/").status_code in (403, 404)
        assert client.post(f"/feeds/matches/{held.pk}/", {"decision": f"confirm-{jordan.pk}"}).status_code in (
            403, 404)
    assert not Offence.objects.exists()


def test_the_lead_agency_confirms_a_people_row_held_for_it_and_the_importer_then_sees_the_person(partnership):
    hidden = partnership.police_only_person
    text = "pnc_number,first_names,last_name,date_of_birth,gender,area,cohort\n" \
           f"{hidden.pnc_number},Casey,Blackwood,1990-05-17,male,northtown,dip\n"
    run_feed("people", partnership.probation_om, text)
    held = PossibleMatch.objects.get()
    matches.confirm(partnership.police_om, held, hidden)
    assert Offender.objects.visible_to(partnership.probation_om).filter(pk=hidden.pk).exists()
    assert hidden.cohort_memberships.filter(cohort="dip").exists()


def test_rejecting_a_people_row_adds_a_new_person(partnership):
    jordan = partnership.iom_person
    text = "pnc_number,first_names,last_name,date_of_birth,gender,area\n" \
           f"2020/0000123Q,Jordan,Ashworth,{jordan.date_of_birth.isoformat()},male,northtown\n"
    report = run_feed("people", partnership.police_om, text)
    assert report.counts["possible"] == 1 and Offender.objects.count() == 2
    assert matches.reject(partnership.police_om, PossibleMatch.objects.get()) == ""
    assert Offender.objects.filter(pnc_number="2020/0000123Q", last_name="Ashworth").exists()


# -- Bad files: a message in seconds, never a 500 --------------------------------------------------------------------


def xlsx_with_one_row_at(row_number):
    """A workbook whose only cell is at `row_number`, past what Excel itself allows (rewritten in the sheet XML)."""
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.cell(row=1_048_000, column=1, value="pnc_number")
    plain = io.BytesIO()
    workbook.save(plain)
    crafted = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"1048000", str(row_number).encode())
            target.writestr(item, data)
    return crafted.getvalue()


def zip_bomb():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            block = b"0" * (1024 * 1024)
            for _ in range(600):
                part.write(block)
    return buffer.getvalue()


BAD_FILES = [
    ("binary renamed", "offences.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50, "not a CSV file"),
    ("NUL bytes", "offences.csv", b"source_system\x00,x\n", "not a text file"),
    ("not UTF-8 or Windows-1252", "offences.csv", OFFENCE_HEADER.encode() + b"\x81\x8d\x8f,\x90\n",
     "not UTF-8 or Windows-1252"),
    ("an oversize cell", "offences.csv", OFFENCE_HEADER.encode() + b"x" * 3_000_000 + b"\n", "longer than"),
    ("millions of blank lines", "offences.csv", OFFENCE_HEADER.encode() + b"\n" * 5_000_000, "blank rows"),
    ("blank rows of commas", "offences.csv", OFFENCE_HEADER.encode() + b",,,,\n" * 2_000_000, "blank rows"),
    ("wrong columns", "offences.csv", b"pnc_number,first_names\n2015/0123456X,A\n", "not for the offences feed"),
    ("duplicate columns", "offences.csv", OFFENCE_HEADER.replace("crn", "pnc_number").encode(), "more than once"),
    ("no header", "offences.csv", b"", "empty"),
    ("not a workbook", "offences.xlsx", b"PK\x03\x04 this is no zip", "could not be read"),
    ("zip bomb", "offences.xlsx", None, "zip bomb"),
    ("only row is row 3,000,000", "offences.xlsx", None, "row 3,000,000"),
    ("too big", "offences.csv", b"a" * (26 * 1024 * 1024), "smaller than 25 MB"),
]


@pytest.mark.parametrize(("label", "name", "content", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_files_are_refused_with_a_message_in_seconds(partnership, label, name, content, message):
    if label == "zip bomb":
        content = zip_bomb()
    if label.startswith("only row"):
        content = xlsx_with_one_row_at(3_000_000)
    started = time.perf_counter()
    with pytest.raises(FileRejected, match=message):
        run_feed("offences", partnership.police_om, content, name=name)
    assert time.perf_counter() - started < 10
    assert not Offence.objects.exists()


def test_windows_1252_text_is_read(partnership):
    text = OFFENCE_HEADER + offence_row("W1").replace("theft", "theft")
    content = text.replace("\n", "\r\n").encode("cp1252")
    content = content.replace(b"W1", b"W\xe91")  # é in Windows-1252
    report = run_feed("offences", partnership.police_om, content)
    assert report.applied and Offence.objects.get().source_reference == "Wé1"


def test_bad_files_in_the_browser_and_the_api_are_messages_not_errors(partnership, client_for, api_for):
    client = client_for(partnership.police_om)
    for _, name, content, message in BAD_FILES[:3] + BAD_FILES[6:9]:
        response = client.post("/feeds/", {"kind": "offences", "file": SimpleUploadedFile(name, content)},
                               follow=True)
        assert response.status_code == 200 and message.split()[0] in response.content.decode()
    api = api_for(partnership.police_om)
    refused = api.post("/api/v1/feed-runs/", {"kind": "offences", "file": SimpleUploadedFile(
        "offences.csv", BAD_FILES[0][2])}, format="multipart")
    assert refused.status_code == 200 and refused.json()["status"] == "failed"
    assert "not a CSV file" in refused.json()["error"]


# -- The command line ------------------------------------------------------------------------------------------


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as ended:
        call_command("import_feed", *args, stdout=out, stderr=err)
        raise SystemExit(0)
    return ended.value.code, out.getvalue().strip().splitlines(), err.getvalue()


def test_the_command_exits_0_1_or_2_and_ends_with_the_counts(partnership, tmp_path):
    good, bad, unreadable = tmp_path / "good.csv", tmp_path / "bad.csv", tmp_path / "broken.xlsx"
    good.write_text(OFFENCE_HEADER + offence_row("C1"))
    bad.write_text(OFFENCE_HEADER + offence_row("C2") + offence_row("C3", group="nonsense"))
    unreadable.write_bytes(b"nonsense")
    code, out, _ = command("offences", str(good), "--user", "police.om", "--dry-run")
    assert code == 0 and out[-1] == "created 1, updated 0, unchanged 0, rejected 0, possible matches 0"
    assert not Offence.objects.exists()
    code, out, _ = command("offences", str(bad), "--user", "police.om")
    assert code == 1 and out[-1] == "created 1, updated 0, unchanged 0, rejected 1, possible matches 0"
    assert any("row 3: rejected: offence_group" in line for line in out) and not Offence.objects.exists()
    code, out, err = command("offences", str(unreadable), "--user", "police.om")
    assert code == 2 and "could not be read" in err
    code, out, _ = command("offences", str(good), "--user", "police.om")
    assert code == 0 and Offence.objects.count() == 1
    assert ImportRun.objects.filter(channel="command").count() == 4


def test_the_command_uses_the_user_rights(partnership, tmp_path):
    good = tmp_path / "offences.csv"
    good.write_text(OFFENCE_HEADER + offence_row("C1", pnc=partnership.police_only_person.pnc_number))
    code, out, _ = command("offences", str(good), "--user", "probation.om")
    assert code == 1 and "No one on the record you can see" in "\n".join(out)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot import"):
        call_command("import_feed", "offences", str(good), "--user", "police.reader")


# -- The API ---------------------------------------------------------------------------------------------------------


def test_the_api_checks_then_applies_a_file_with_the_same_rules(partnership, api_for):
    api = api_for(partnership.police_om)
    upload = SimpleUploadedFile("offences.csv", (OFFENCE_HEADER + offence_row("API1")).encode())
    checked = api.post("/api/v1/feed-runs/", {"kind": "offences", "file": upload}, format="multipart")
    assert checked.status_code == 200 and checked.json()["status"] == "checked"
    assert checked.json()["summary"] == "created 1, updated 0, unchanged 0, rejected 0, possible matches 0"
    assert not Offence.objects.exists()
    applied = api.post(f"/api/v1/feed-runs/{checked.json()['id']}/apply/")
    assert applied.status_code == 200 and applied.json()["status"] == "applied" and Offence.objects.count() == 1
    assert api_for(partnership.probation_om).get(f"/api/v1/feed-runs/{checked.json()['id']}/").status_code == 404
    assert api_for(partnership.analyst).get("/api/v1/feed-runs/").status_code == 403


# -- Landing folders -----------------------------------------------------------------------------------------------


def test_the_landing_folder_sweep_imports_each_file_and_moves_it(partnership, tmp_path, settings):
    settings.FEEDS_LANDING_ROOT = str(tmp_path)
    settings.FEEDS_LANDING_SETTLE_SECONDS = 30
    source = FeedSource.objects.create(name="police-niche", agency=partnership.police, landing_folder="police",
                                       run_as=partnership.police_om)
    folder = tmp_path / "police"
    folder.mkdir()
    good = folder / "offences-2026-03.csv"
    good.write_text(OFFENCE_HEADER.replace("source_system,", "") + offence_row("L1").replace("police-niche,", ""))
    bad = folder / "offences-2026-04.csv"
    bad.write_text(OFFENCE_HEADER + offence_row("L2", group="nonsense"))
    fresh = folder / "offences-2026-05.csv"
    fresh.write_text(OFFENCE_HEADER + offence_row("L3"))
    old = time.time() - 120
    for path in (good, bad):
        os.utime(path, (old, old))
    from feeds.tasks import sweep_landing_folders

    made = sweep_landing_folders()
    assert len(made) == 2
    assert Offence.objects.get().source_reference == "L1" and Offence.objects.get().source_system == "police-niche"
    assert sorted(p.name for p in (folder / "processed").iterdir())[0].endswith("offences-2026-03.csv")
    rejected = sorted((folder / "rejected").iterdir())
    assert any(p.name.endswith("offences-2026-04.csv.report.txt") and "offence_group" in p.read_text()
               for p in rejected)
    assert fresh.exists()  # still being written: left for the next sweep
    runs = ImportRun.objects.filter(source=source).order_by("filename")
    assert [(r.status, r.channel) for r in runs] == [("applied", "landing"), ("rejected", "landing")]
    assert landing.kind_of("cohort_exits_march.xlsx") == "cohort-exits"


def test_every_feed_has_a_sample_file_with_its_columns_and_the_readme_documents_them():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for kind, feed in FEEDS.items():
        header = (SAMPLES / f"{kind}.csv").read_text().splitlines()[0].split(",")
        assert header == feed.column_names, kind
        assert f"**`{kind}`**" in readme
        for column in feed.column_names:
            assert f"`{column}`" in readme, (kind, column)


def test_each_feed_offers_its_template(partnership, client_for):
    client = client_for(partnership.police_om)
    for kind, feed in FEEDS.items():
        response = client.get(f"/feeds/{kind}/template.csv")
        lines = response.content.decode().splitlines()
        assert response.status_code == 200 and lines[0].split(",") == feed.column_names


def test_new_offences_from_a_feed_reach_the_offender_manager_once_the_file_is_applied(partnership):
    from django.test import TestCase

    from alerts.models import Alert

    with TestCase.captureOnCommitCallbacks(execute=True):
        run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("AL1"), dry_run=True)
    assert not Alert.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_feed("offences", partnership.police_om, OFFENCE_HEADER + offence_row("AL1"))
    assert Alert.objects.filter(recipient=partnership.police_om, message__contains="police-niche").count() == 1
