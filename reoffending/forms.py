from django.contrib.auth.forms import AuthenticationForm
from django.forms.renderers import TemplatesSetting

from .widgets import GovukFormMixin


class GovukFormRenderer(TemplatesSetting):
    """Renders Django forms with GOV.UK Design System markup (templates/govuk/forms/)."""

    form_template_name = "govuk/forms/form.html"
    field_template_name = "govuk/forms/field.html"


class SignInForm(GovukFormMixin, AuthenticationForm):
    pass
