"""Field-level history: the values a person, a cohort membership, an action or a referral had before each change.

PostgreSQL triggers (django-pghistory) write a row here whenever a tracked field of the record
changes, whatever made the change: a form, the API, a feed or the admin. The row holds the values
*before* the change; the values after it are those of the next row, or of the record itself for
the latest change, so a record that existed before history began still shows its first change in full.
Who made the change, and on which page, is the request's context (`history.middleware`); a change
from a feed or a scheduled task has none. On SQLite (the demo) the same rows are written from Django's
pre_save signal instead (`history.fallback`).

Each row belongs to its record: erasing a person removes their history with them.
"""

import pghistory
from django.db import models

from cases.models import CohortMembership, Offender
from pathways.models import Action, Referral

CHANGE = "change"

PERSON_FIELDS = [
    "first_names", "last_name", "date_of_birth", "gender", "ethnicity", "address", "postcode", "area",
    "pnc_number", "crn", "prison_number", "veteran", "care_leaver", "disability", "womens_cohort",
    "lead_agency", "lead_offender_manager", "review_date",
]
MEMBERSHIP_FIELDS = [
    "offender", "cohort", "iom_category", "mappa_category", "mappa_level", "started_on", "ended_on", "exit_reason",
]
ACTION_FIELDS = [
    "offender", "pathway", "need", "description", "owner_agency", "owner", "due_on", "status", "outcome",
    "completed_on",
]
REFERRAL_FIELDS = [
    "offender", "service", "urgency", "reason", "status", "first_contact_at", "decided_on", "decision_reason",
    "started_on", "ended_on", "outcome",
]


def _change_history(model, fields):
    return pghistory.create_event_model(
        model,
        pghistory.UpdateEvent(CHANGE, row=pghistory.Old),
        fields=fields,
        obj_field=pghistory.ObjForeignKey(related_name="+", on_delete=models.CASCADE, db_constraint=False),
        context_field=pghistory.ContextJSONField(),
        app_label="history",
    )


class PersonChange(_change_history(Offender, PERSON_FIELDS)):
    class Meta:
        indexes = [models.Index(fields=["pgh_obj", "pgh_id"], name="history_person_obj_id")]


class MembershipChange(_change_history(CohortMembership, MEMBERSHIP_FIELDS)):
    class Meta:
        indexes = [models.Index(fields=["offender", "pgh_created_at"], name="history_membership_person")]


class ActionChange(_change_history(Action, ACTION_FIELDS)):
    class Meta:
        indexes = [models.Index(fields=["offender", "pgh_created_at"], name="history_action_person")]


class ReferralChange(_change_history(Referral, REFERRAL_FIELDS)):
    class Meta:
        indexes = [models.Index(fields=["offender", "pgh_created_at"], name="history_referral_person")]


TRACKED = {Offender: PersonChange, CohortMembership: MembershipChange, Action: ActionChange, Referral: ReferralChange}
