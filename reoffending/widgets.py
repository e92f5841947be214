"""GOV.UK Design System widgets for Django forms."""

import datetime

from django import forms


class GovukDateInput(forms.MultiWidget):
    """The GOV.UK date input: separate day, month and year boxes, no JavaScript needed."""

    template_name = "govuk/widgets/date_input.html"

    def __init__(self, attrs=None):
        part = {"inputmode": "numeric", "class": "govuk-input govuk-date-input__input"}
        widgets = {
            "day": forms.TextInput({**part, "class": part["class"] + " govuk-input--width-2"}),
            "month": forms.TextInput({**part, "class": part["class"] + " govuk-input--width-2"}),
            "year": forms.TextInput({**part, "class": part["class"] + " govuk-input--width-4"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        if isinstance(value, str) and value.count("-") == 2:
            year, month, day = value.split("-")
            return [day, month, year]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        day, month, year = (
            (data.get(f"{name}_{part}") or "").strip() for part in ("day", "month", "year")
        )
        if not (day or month or year):
            # A plain ISO value (from an API-style post or a test) is accepted as well.
            return data.get(name) or None
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            return f"{year}-{month}-{day}"
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}_{part}" in data for part in ("day", "month", "year"))


class GovukDateField(forms.DateField):
    widget = GovukDateInput
    default_error_messages = {"invalid": "Enter a real date, for example 27 3 2007"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(*args, **kwargs)


def govuk_formfield_callback(field, **kwargs):
    """Use the GOV.UK date input for every model date field."""
    from django.db import models

    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return field.formfield(form_class=GovukDateField, **kwargs)
    return field.formfield(**kwargs)


class GovukFormMixin:
    """Adds GOV.UK classes to widgets, so forms render with the design system's styles.

    Radios, checkboxes and date inputs are laid out by templates/govuk/forms/field.html.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.MultiWidget | forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css_class = "govuk-checkboxes__input"
            elif isinstance(widget, forms.Select):
                css_class = "govuk-select"
                if widget.template_name == forms.Select.template_name:
                    widget.template_name = "govuk/widgets/select.html"
            elif isinstance(widget, forms.Textarea):
                css_class = "govuk-textarea"
            else:
                css_class = "govuk-input"
            if self.is_bound and name in self.errors and css_class != "govuk-checkboxes__input":
                css_class += f" {css_class}--error"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css_class}".strip()
