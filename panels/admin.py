from django.contrib import admin

from .models import (
    AgendaItem,
    Attendance,
    CheckpointContract,
    MappaLevelDecision,
    Meeting,
    MeetingAction,
    Panel,
    PanelMembership,
)


class PanelMembershipInline(admin.TabularInline):
    model = PanelMembership
    extra = 1
    autocomplete_fields = ["agency"]


@admin.register(Panel)
class PanelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "chair", "cadence", "active"]
    list_filter = ["kind", "area", "active"]
    search_fields = ["name"]
    raw_id_fields = ["chair"]
    inlines = [PanelMembershipInline]


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["panel", "held_on", "status", "closed_at"]
    list_filter = ["status", "panel"]
    date_hierarchy = "held_on"
    readonly_fields = ["agenda_generated_at", "closed_at", "closed_by"]
    inlines = [AttendanceInline]


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    list_display = ["meeting", "offender", "position", "discussed_at"]
    list_filter = ["meeting__panel"]
    raw_id_fields = ["meeting", "offender", "rag_change"]


@admin.register(MeetingAction)
class MeetingActionAdmin(admin.ModelAdmin):
    list_display = ["meeting", "action"]
    raw_id_fields = ["meeting", "agenda_item", "action"]


@admin.register(MappaLevelDecision)
class MappaLevelDecisionAdmin(admin.ModelAdmin):
    list_display = ["offender", "category", "level", "review_on", "decided_at"]
    list_filter = ["level", "category"]
    raw_id_fields = ["offender", "meeting", "decided_by"]


@admin.register(CheckpointContract)
class CheckpointContractAdmin(admin.ModelAdmin):
    list_display = ["offender", "started_on", "ends_on", "outcome", "victim_consulted"]
    list_filter = ["outcome", "victim_consulted", "restorative_justice_offered"]
    raw_id_fields = ["offender", "needs_assessment", "created_by"]
    readonly_fields = ["ends_on"]
