from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    AccessLogEntry,
    Agency,
    Area,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    SharingAgreement,
    User,
)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name"]


class SharingAgreementInline(admin.TabularInline):
    model = SharingAgreement
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area"]
    list_filter = ["kind", "area"]
    search_fields = ["name"]
    inlines = [SharingAgreementInline]


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active"]
    list_filter = ["agency", "role", "is_active"]
    list_select_related = ["agency"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Partnership", {"fields": ["agency", "role", "job_title"]}),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        ("Partnership", {"fields": ["agency", "role", "job_title"]}),
    ]


class CohortMembershipInline(admin.TabularInline):
    model = CohortMembership
    extra = 0
    exclude = ["created_by"]


@admin.register(Offender)
class OffenderAdmin(admin.ModelAdmin):
    """System administrators only: agencies work on cases in the service itself."""

    list_display = ["last_name", "first_names", "pnc_number", "crn", "lead_agency", "rag_status"]
    list_filter = ["lead_agency", "area", "rag_status"]
    list_select_related = ["lead_agency"]
    search_fields = ["last_name", "pnc_number", "crn", "prison_number"]
    raw_id_fields = ["lead_offender_manager"]
    readonly_fields = ["rag_status", "version"]
    inlines = [CohortMembershipInline]


@admin.register(Offence)
class OffenceAdmin(admin.ModelAdmin):
    list_display = ["offender", "committed_on", "offence_group", "outcome", "outcome_on"]
    list_filter = ["offence_group", "outcome"]
    raw_id_fields = ["offender"]


@admin.register(EnforcementAction)
class EnforcementActionAdmin(admin.ModelAdmin):
    list_display = ["offender", "kind", "taken_on", "agency"]
    list_filter = ["kind", "agency"]
    raw_id_fields = ["offender", "recorded_by"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "username", "agency", "action", "object_type", "object_id", "offender_id"]
    list_filter = ["action", "agency"]
    search_fields = ["username", "object_id", "detail"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
