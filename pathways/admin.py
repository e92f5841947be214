from django.contrib import admin

from .models import (
    AccommodationStatus,
    Action,
    BenefitStatus,
    EteStatus,
    NeedAssessment,
    Pathway,
    Referral,
    Service,
    TreatmentEngagement,
)


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    """The partnership renames, reorders, adds and retires pathways here; history stays with retired ones."""

    list_display = ["name", "key", "order", "retired"]
    list_editable = ["order", "retired"]
    list_filter = ["retired"]
    search_fields = ["name", "key"]

    def has_delete_permission(self, request, obj=None):
        # Retire instead: assessments and actions refer to the pathway.
        return False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "pathway", "provided_by", "area", "target_first_contact_hours", "retired"]
    list_filter = ["pathway", "area", "retired"]
    list_select_related = ["pathway", "provider", "area"]
    search_fields = ["name", "provider_name", "provider__name"]


@admin.register(NeedAssessment)
class NeedAssessmentAdmin(admin.ModelAdmin):
    list_display = ["offender", "pathway", "level", "assessed_on", "agency"]
    list_filter = ["pathway", "level"]
    list_select_related = ["offender", "pathway", "agency"]
    raw_id_fields = ["offender", "assessed_by"]
    date_hierarchy = "assessed_on"


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["offender", "pathway", "owner_agency", "owner", "due_on", "status"]
    list_filter = ["status", "pathway", "owner_agency"]
    list_select_related = ["offender", "pathway", "owner_agency", "owner"]
    raw_id_fields = ["offender", "need", "owner", "created_by"]
    readonly_fields = ["version"]
    date_hierarchy = "due_on"


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["offender", "service", "urgency", "status", "referred_at", "first_contact_at"]
    list_filter = ["status", "urgency", "service__pathway"]
    list_select_related = ["offender", "service"]
    raw_id_fields = ["offender", "action", "referred_by"]
    readonly_fields = ["version"]
    date_hierarchy = "referred_at"


class DatedStatusAdmin(admin.ModelAdmin):
    list_display = ["offender", "effective_on", "agency"]
    list_select_related = ["offender", "agency"]
    raw_id_fields = ["offender", "recorded_by"]
    date_hierarchy = "effective_on"


@admin.register(AccommodationStatus)
class AccommodationStatusAdmin(DatedStatusAdmin):
    list_display = ["offender", "status", "effective_on", "on_release_day", "agency"]
    list_filter = ["status", "on_release_day"]


@admin.register(EteStatus)
class EteStatusAdmin(DatedStatusAdmin):
    list_display = ["offender", "status", "effective_on", "agency"]
    list_filter = ["status"]


@admin.register(BenefitStatus)
class BenefitStatusAdmin(DatedStatusAdmin):
    list_display = ["offender", "status", "effective_on", "agency"]
    list_filter = ["status"]


@admin.register(TreatmentEngagement)
class TreatmentEngagementAdmin(DatedStatusAdmin):
    list_display = ["offender", "substance", "stage", "requirement", "effective_on", "provider"]
    list_filter = ["substance", "stage", "requirement"]
