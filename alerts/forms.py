from django import forms

from web.widgets import GovukFormMixin, govuk_formfield_callback

from .models import AlertSettings


class AlertSettingsForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["email"]
        formfield_callback = govuk_formfield_callback
