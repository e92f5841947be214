from django.contrib import admin

from .models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["agency", "url", "created_at", "paused_at", "failures_in_a_row"]
    list_filter = ["agency"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "subscription", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [field.name for field in Delivery._meta.fields]
