"""The case's own records on the activity log (`cases.timeline`): contacts, notes, RAG changes,
cohorts, offences, enforcement and sharing."""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import Appointment, CaseNote
from .timeline import Entry, TimelineSource, register_timeline_source


def _by(user, agency):
    name = str(user) if user else ""
    return ", ".join(part for part in (name, str(agency) if agency else "") if part)


def _appointments(pks, offender):
    rows = offender.appointments.filter(pk__in=pks).select_related("agency", "staff")
    return {
        a.pk: Entry(
            a.scheduled_at, a.get_kind_display(),
            ". ".join(part for part in (
                a.get_absence_reason_display() if a.absence_reason else "", a.notes) if part),
            _by(a.staff, a.agency), reverse("cases:appointment_detail", args=[offender.pk, a.pk]),
            tag=("Outcome not recorded" if a.outcome == Appointment.Outcome.SCHEDULED and a.is_due
                 else a.get_outcome_display()),
            tag_colour="red" if a.is_failure_to_comply else (
                "yellow" if a.outcome == Appointment.Outcome.SCHEDULED and a.is_due else "grey"),
        )
        for a in rows
    }


def _notes(pks, offender):
    rows = offender.notes.filter(pk__in=pks).select_related("author", "agency")
    return {
        n.pk: Entry(n.created_at, "Case note", n.text, _by(n.author, n.agency),
                    tag=f"Restricted to {n.agency}" if n.is_restricted else "",
                    tag_colour="yellow")
        for n in rows
    }


def _rag(pks, offender):
    rows = offender.rag_changes.filter(pk__in=pks).select_related("changed_by", "agency")
    return {
        c.pk: Entry(
            c.changed_at,
            f"RAG status {c.get_from_status_display().lower() or 'not set'} to {c.get_to_status_display().lower()}",
            c.reason, _by(c.changed_by, c.agency), tag=c.get_source_display(),
        )
        for c in rows
    }


def _memberships(pks, offender):
    rows = offender.cohort_memberships.filter(pk__in=pks).select_related("created_by")
    return {
        m.pk: Entry(m.started_on, f"Joined {m.description}",
                    f"Left on {m.ended_on:%-d %B %Y}: {m.get_exit_reason_display()}" if m.ended_on else "",
                    _by(m.created_by, None), reverse("cases:personal", args=[offender.pk]) + "#cohorts")
        for m in rows
    }


def _offences(pks, offender):
    rows = offender.offences.filter(pk__in=pks).select_related("recorded_by_agency")
    return {
        o.pk: Entry(o.committed_on, f"Offence: {o.get_offence_group_display()}",
                    ". ".join(part for part in (o.description, o.court) if part),
                    str(o.recorded_by_agency or ""), reverse("cases:sentence", args=[offender.pk]) + "#offences",
                    tag=o.get_outcome_display(), tag_colour="red" if o.is_proven else "grey")
        for o in rows
    }


def _enforcement(pks, offender):
    rows = offender.enforcement_actions.filter(pk__in=pks).select_related("recorded_by", "agency")
    return {
        e.pk: Entry(e.taken_on, e.get_kind_display(),
                    ". ".join(part for part in (e.details, e.outcome) if part), _by(e.recorded_by, e.agency),
                    reverse("cases:sentence", args=[offender.pk]) + "#enforcement",
                    tag="In progress" if e.in_progress else ("Concluded" if e.concluded_on else ""),
                    tag_colour="red" if e.in_progress else "grey")
        for e in rows
    }


def _shares(pks, offender):
    rows = offender.shares.filter(pk__in=pks).select_related("agency", "shared_by", "shared_by_agency")
    return {
        s.pk: Entry(s.shared_at, f"Shared with {s.agency}", s.reason, _by(s.shared_by, s.shared_by_agency),
                    reverse("cases:personal", args=[offender.pk]) + "#sharing",
                    tag={"withdrawn": "Withdrawn", "ended": "Ended"}.get(s.state, ""))
        for s in rows
    }


COMPLIANCE_CHOICES = [
    ("failures", "Failures to comply"),
    ("complied", "Attended and complied"),
    ("acceptable", "Acceptable absences"),
    ("not_recorded", "Outcome not recorded"),
]


def _compliance(choice):
    """The appointments matching a compliance filter (worked out when used, so "not recorded" is as of now)."""
    return {
        "failures": Q(outcome__in=Appointment.FAILURE_OUTCOMES),
        "complied": Q(outcome=Appointment.Outcome.ATTENDED_COMPLIED),
        "acceptable": Q(outcome=Appointment.Outcome.ACCEPTABLE_ABSENCE),
        "not_recorded": Q(outcome=Appointment.Outcome.SCHEDULED, scheduled_at__lt=timezone.now()),
    }[choice]


def register():
    for source in (
        TimelineSource("appointments", "Contacts and appointments", lambda o, u: o.appointments.all(),
                       "scheduled_at", _appointments, ("notes",), compliance=_compliance, order=10),
        TimelineSource("notes", "Case notes", lambda o, u: CaseNote.objects.filter(offender=o).readable_by(u),
                       "created_at", _notes, ("text",), order=20),
        TimelineSource("rag", "RAG changes", lambda o, u: o.rag_changes.all(), "changed_at", _rag, ("reason",),
                       order=30),
        TimelineSource("cohorts", "Cohorts", lambda o, u: o.cohort_memberships.all(), "started_on", _memberships,
                       order=40),
        TimelineSource("offences", "Offences", lambda o, u: o.offences.all(), "committed_on", _offences,
                       ("description", "court"), order=50),
        TimelineSource("enforcement", "Enforcement", lambda o, u: o.enforcement_actions.all(), "taken_on",
                       _enforcement, ("details", "outcome"), order=60),
        TimelineSource("sharing", "Sharing", lambda o, u: o.shares.all(), "shared_at", _shares, ("reason",),
                       order=90),
    ):
        register_timeline_source(source)
