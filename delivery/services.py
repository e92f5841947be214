"""Changes to the board's delivery plan.

The board's own staff (the OPCC's analysts and administrators) keep the plan: they add
objectives and actions. The responsible service records each quarter's progress on its own
actions; so may the board's staff. Everyone with an account may read the plan.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Agency, Role

from .models import Objective, PlanAction, ProgressUpdate

PLAN_KEEPER_ROLES = frozenset({Role.ANALYST, Role.AGENCY_ADMIN})
MAX_EVIDENCE_LINKS = 10


def can_read_plan(user):
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(user.agency_id)


def can_keep_plan(user):
    """The board's own staff: analysts and administrators of the OPCC."""
    if not can_read_plan(user):
        return False
    return user.is_superuser or (user.agency.kind == Agency.Kind.OPCC and user.role in PLAN_KEEPER_ROLES)


def can_report_on(user, action):
    """The board's staff, or staff of the responsible service who may change records."""
    if can_keep_plan(user):
        return True
    return can_read_plan(user) and user.agency_id == action.lead_agency_id and user.role != Role.READ_ONLY


def ensure_plan_keeper(user):
    if not can_keep_plan(user):
        raise PermissionDenied("Only the board's staff can change the delivery plan.")


def _clean(value):
    return (value or "").strip()


@transaction.atomic
def add_objective(user, *, number, title, description=""):
    """A new objective of the strategy; its number is unique."""
    ensure_plan_keeper(user)
    if Objective.objects.filter(number=number).exists():
        raise ValidationError({"number": f"Objective {number} already exists."})
    objective = Objective(number=number, title=_clean(title), description=_clean(description))
    objective.full_clean()
    objective.save()
    return objective


@transaction.atomic
def add_action(user, objective, *, description, intended_outcome, lead_agency, lead_person, due_on):
    """A new line of the plan under an objective."""
    ensure_plan_keeper(user)
    action = PlanAction(
        objective=objective, description=_clean(description), intended_outcome=_clean(intended_outcome),
        lead_agency=lead_agency, lead_person=_clean(lead_person), due_on=due_on,
    )
    action.full_clean()
    action.save()
    return action


def clean_evidence(text):
    """One web address a line; refuses anything else so the board pack's links all work."""
    links = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(links) > MAX_EVIDENCE_LINKS:
        raise ValidationError({"evidence": f"Give at most {MAX_EVIDENCE_LINKS} links."})
    check = URLValidator(schemes=["http", "https"])
    for link in links:
        try:
            check(link)
        except ValidationError as error:
            raise ValidationError({"evidence": f"“{link[:80]}” is not a web address starting https://"}) from error
    return "\n".join(links)


@transaction.atomic
def record_progress(user, action, *, quarter, rag, narrative, evidence=""):
    """The quarter's progress on an action: a RAG, a short narrative and evidence links.

    A second update for the same quarter corrects the first rather than adding another.
    A quarter that has not started yet is refused.
    """
    if not can_report_on(user, action):
        raise PermissionDenied("Only the responsible service or the board's staff can report on this action.")
    if quarter.start > timezone.localdate():
        raise ValidationError({"quarter": "That quarter has not started yet."})
    narrative = _clean(narrative)
    if not narrative:
        raise ValidationError({"narrative": "Enter the progress to date."})
    if rag not in ProgressUpdate.Rag.values:
        raise ValidationError({"rag": "Select the progress."})
    values = {"rag": rag, "narrative": narrative, "evidence": clean_evidence(evidence),
              "recorded_by": user, "recorded_at": timezone.now()}
    try:
        with transaction.atomic():
            update, _ = ProgressUpdate.objects.update_or_create(
                action=action, quarter_start=quarter.start, defaults=values)
    except IntegrityError as error:
        raise ValidationError("The update could not be saved; try again.") from error
    return update
