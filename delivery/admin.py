from django.contrib import admin

from .models import Objective, PlanAction, ProgressUpdate


class PlanActionInline(admin.TabularInline):
    model = PlanAction
    extra = 0
    fields = ["description", "lead_agency", "lead_person", "due_on"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["number", "title"]
    inlines = [PlanActionInline]


@admin.register(PlanAction)
class PlanActionAdmin(admin.ModelAdmin):
    list_display = ["description", "objective", "lead_agency", "due_on"]
    list_filter = ["objective", "lead_agency"]


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(admin.ModelAdmin):
    list_display = ["action", "quarter_start", "rag", "recorded_by"]
    list_filter = ["quarter_start", "rag"]
    raw_id_fields = ["action", "recorded_by"]
