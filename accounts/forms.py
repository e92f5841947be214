from django import forms
from django.contrib.auth.forms import AuthenticationForm

from web.widgets import GovukFormMixin


class IssueTokenForm(GovukFormMixin, forms.Form):
    name = forms.CharField(
        label="What is the token for?",
        help_text="For example, the name of the system that will use it. It helps you tell your tokens apart.",
        max_length=100,
        required=False,
    )


class ResetTwoFactorForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you resetting it?",
        help_text="For example, how you confirmed who asked. This is kept in the access log.",
        max_length=200,
        error_messages={"required": "Enter why two-factor authentication is being reset"},
    )


class StaffSearchForm(GovukFormMixin, forms.Form):
    q = forms.CharField(label="Name or user name", max_length=100, required=False,
                        widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}))


class SignInForm(GovukFormMixin, AuthenticationForm):
    pass
