"""Changes to the person, their cohort memberships, actions and referrals on the case's activity log."""

from django.urls import reverse

from cases.models import CohortMembership
from cases.timeline import Entry, TimelineSource
from pathways.models import Service

from .changes import describe_changes
from .models import ActionChange, MembershipChange, PersonChange, ReferralChange


def _entry(change, title, url):
    return Entry(change.at, title, "\n".join(change.lines) or "No field shown here changed.", change.who, url,
                 tag="Changed")


def _person(pks, offender):
    url = reverse("cases:personal", args=[offender.pk])
    return {pk: _entry(change, "Personal details changed", url)
            for pk, change in describe_changes(PersonChange, pks).items()}


def _memberships(pks, offender):
    url = reverse("cases:personal", args=[offender.pk]) + "#cohorts"
    entries = {}
    for pk, change in describe_changes(MembershipChange, pks).items():
        values = change.snapshot
        membership = CohortMembership(cohort=values["cohort"], iom_category=values["iom_category"],
                                      mappa_category=values["mappa_category"], mappa_level=values["mappa_level"])
        entries[pk] = _entry(change, f"Cohort membership changed: {membership.description}", url)
    return entries


def _actions(pks, offender):
    return {pk: _entry(change, f"Action changed: {change.snapshot['description'][:120]}",
                       reverse("pathways:action_detail", args=[change.record_id]))
            for pk, change in describe_changes(ActionChange, pks).items()}


def _referrals(pks, offender):
    changes = describe_changes(ReferralChange, pks)
    services = dict(Service.objects.filter(pk__in={change.snapshot["service_id"] for change in changes.values()})
                    .values_list("pk", "name"))
    return {pk: _entry(change, f"Referral to {services.get(change.snapshot['service_id'], 'a service')} changed",
                       reverse("pathways:referral_detail", args=[change.record_id]))
            for pk, change in changes.items()}


def timeline_sources():
    return [
        TimelineSource("person_changes", "Changes to personal details",
                       lambda o, u: PersonChange.objects.filter(pgh_obj=o), "pgh_created_at", _person,
                       ("first_names", "last_name", "address", "postcode"), order=15),
        TimelineSource("membership_changes", "Changes to cohorts",
                       lambda o, u: MembershipChange.objects.filter(offender=o), "pgh_created_at", _memberships,
                       order=45),
        TimelineSource("action_changes", "Changes to actions",
                       lambda o, u: ActionChange.objects.filter(offender=o), "pgh_created_at", _actions,
                       ("description", "outcome"), order=85),
        TimelineSource("referral_changes", "Changes to referrals",
                       lambda o, u: ReferralChange.objects.filter(offender=o), "pgh_created_at", _referrals,
                       ("reason", "outcome", "decision_reason"), order=86),
    ]
