"""Recording risk: each function checks the user may work on the case, runs in one transaction and logs it.

Case workers of any agency that may see the person may record risk: risk information is shared
precisely so that the police officer visiting the house and the housing officer interviewing the
person know it. Every record keeps who, which agency and when, and none is overwritten.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.audit import log_access
from cases.locking import lock_for_change, save_next_version
from cases.models import AccessLogEntry
from cases.services import ensure_casework_allowed

from .models import RiskAssessment, RiskFlag, RiskFlagReview, RiskScore

Action = AccessLogEntry.Action


@transaction.atomic
def record_risk_assessment(user, offender, *, rosh_level, assessed_on, tier="", notes="", source_system="",
                           source_reference=""):
    """Add a risk of serious harm assessment (and tier); it stands until a later one is recorded.

    Refuses a date in the future and a tier that is not a letter A to D and a number 0 to 3.
    """
    ensure_casework_allowed(user, offender)
    assessment = RiskAssessment(
        offender=offender, rosh_level=rosh_level, tier=tier, assessed_on=assessed_on, notes=notes,
        agency_id=user.agency_id, recorded_by=user, recorded_at=timezone.now(),
        source_system=source_system, source_reference=source_reference,
    )
    assessment.full_clean()
    assessment.save()
    log_access(user, Action.CREATE, assessment, offender=offender,
               detail=f"Risk of serious harm {assessment.get_rosh_level_display().lower()}")
    return assessment


@transaction.atomic
def record_risk_score(user, offender, *, kind, assessed_on, score=None, band="", source_system="",
                      source_reference=""):
    """Add a predictor score (OGRS, OGP, OVP, RSR, OSP); earlier scores of the kind stay as history."""
    ensure_casework_allowed(user, offender)
    risk_score = RiskScore(
        offender=offender, kind=kind, score=score, band=band or "", assessed_on=assessed_on,
        agency_id=user.agency_id, recorded_by=user, recorded_at=timezone.now(),
        source_system=source_system, source_reference=source_reference,
    )
    risk_score.full_clean()
    risk_score.save()
    log_access(user, Action.CREATE, risk_score, offender=offender, detail=str(risk_score))
    return risk_score


@transaction.atomic
def raise_risk_flag(user, offender, *, kind, level, registered_on, review_on, notes="", source_system="",
                    source_reference=""):
    """Raise a risk flag with its level and next review date; a person has at most one open flag of a kind."""
    ensure_casework_allowed(user, offender)
    flag = RiskFlag(
        offender=offender, kind=kind, level=level, registered_on=registered_on, review_on=review_on, notes=notes,
        agency_id=user.agency_id, registered_by=user, recorded_at=timezone.now(),
        source_system=source_system, source_reference=source_reference,
    )
    flag.full_clean(validate_constraints=False)
    if RiskFlag.objects.open().filter(offender=offender, kind=kind).exists():
        raise ValidationError({"kind": "The person already has this flag: review it instead."})
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError as error:
        raise ValidationError({"kind": "The person already has this flag: review it instead."}) from error
    log_access(user, Action.CREATE, flag, offender=offender, detail=f"Raised {flag}")
    return flag


@transaction.atomic
def review_risk_flag(user, flag, *, reviewed_on, level, next_review_on, notes="", expected_version=None):
    """Record a review of an open flag: the level it is left at and when it is next due.

    Refused for a removed flag, a review dated in the future or before the flag was raised, a next
    review not after this one, and (with `expected_version`) when someone else changed the flag meanwhile.
    """
    ensure_casework_allowed(user, flag.offender)
    flag = lock_for_change(RiskFlag.objects, flag.pk, expected=expected_version, subject="This risk flag")
    if not flag.is_open:
        raise ValidationError("This flag has been removed: raise a new one instead.")
    errors = {}
    if reviewed_on > timezone.localdate():
        errors["reviewed_on"] = "The date of the review cannot be in the future."
    elif reviewed_on < flag.registered_on:
        errors["reviewed_on"] = "The review cannot be before the flag was raised."
    if next_review_on <= reviewed_on:
        errors["next_review_on"] = "The next review must be after this one."
    if errors:
        raise ValidationError(errors)
    review = RiskFlagReview.objects.create(
        flag=flag, reviewed_on=reviewed_on, level=level, next_review_on=next_review_on, notes=notes,
        agency_id=user.agency_id, reviewed_by=user, recorded_at=timezone.now(),
    )
    flag.level, flag.review_on = level, next_review_on
    save_next_version(flag, ["level", "review_on"])
    log_access(user, Action.CHANGE, flag, offender=flag.offender_id,
               detail=f"Reviewed {flag}, next review {next_review_on:%d %b %Y}")
    return review


@transaction.atomic
def remove_risk_flag(user, flag, *, ended_on, reason, expected_version=None):
    """Remove an open flag, with the date and why; the flag and its reviews stay in the history."""
    ensure_casework_allowed(user, flag.offender)
    flag = lock_for_change(RiskFlag.objects, flag.pk, expected=expected_version, subject="This risk flag")
    if not flag.is_open:
        raise ValidationError("This flag has already been removed.")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Enter why the flag is being removed."
    if ended_on > timezone.localdate():
        errors["ended_on"] = "The date the flag was removed cannot be in the future."
    elif ended_on < flag.registered_on:
        errors["ended_on"] = "A flag cannot be removed before the day it was raised."
    if errors:
        raise ValidationError(errors)
    flag.ended_on, flag.end_reason, flag.ended_by = ended_on, reason, user
    save_next_version(flag, ["ended_on", "end_reason", "ended_by"])
    log_access(user, Action.CHANGE, flag, offender=flag.offender_id, detail=f"Removed {flag}")
    return flag
