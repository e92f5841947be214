from django.contrib import admin

from .models import ChecklistItemType, ChecklistSettings


@admin.register(ChecklistItemType)
class ChecklistItemTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "owner_kind", "order", "retired"]
    list_editable = ["order", "retired"]
    list_filter = ["retired"]


@admin.register(ChecklistSettings)
class ChecklistSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "weeks_before_release"]

    def has_add_permission(self, request):
        # One row holds the partnership's setting.
        return not ChecklistSettings.objects.exists() and super().has_add_permission(request)
