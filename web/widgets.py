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

    Radios, checkboxes and date inputs are laid out by templates/govuk/forms/field.html. A field
    with an error gets the error style once the form has been validated, never earlier: a form
    that narrows a field's choices after this `__init__` (to the user's agency, say) must be
    validated against the narrowed choices.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css_class = _govuk_class(field.widget)
            if css_class:
                field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css_class}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            widget = self.fields[name].widget if name in self.fields else None
            css_class = _govuk_class(widget) if widget is not None else None
            if css_class and css_class != "govuk-checkboxes__input":
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css_class}--error".strip()


def _govuk_class(widget):
    if isinstance(widget, forms.RadioSelect | forms.MultiWidget | forms.HiddenInput):
        return None
    if isinstance(widget, forms.CheckboxInput):
        return "govuk-checkboxes__input"
    if isinstance(widget, forms.Select):
        if widget.template_name == forms.Select.template_name:
            widget.template_name = "govuk/widgets/select.html"
        return "govuk-select"
    if isinstance(widget, forms.Textarea):
        return "govuk-textarea"
    return "govuk-input"


class GovukTimeField(forms.TimeField):
    """A time of day typed as people write it: 14:30, 14.30, 2:30pm or 9am."""

    default_error_messages = {"invalid": "Enter a real time, for example 14:30 or 2:30pm"}
    FORMATS = ("%H:%M", "%H.%M", "%I:%M%p", "%I.%M%p", "%I%p", "%H%M", "%H:%M:%S")

    def __init__(self, *args, **kwargs):
        # A prefilled time shows as people write it (10:00), so sending the form unchanged is accepted.
        kwargs.setdefault("widget", forms.TimeInput(format="%H:%M",
                                                    attrs={"class": "govuk-input--width-5", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, datetime.time) or value in self.empty_values:
            return super().to_python(value)
        text = str(value).strip().lower().replace(" ", "").replace("noon", "12pm").replace("midday", "12pm")
        for pattern in self.FORMATS:
            try:
                return datetime.datetime.strptime(text, pattern).time()  # noqa: DTZ007 - a time of day, no zone
            except ValueError:
                continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


def aware_datetime(day, time):
    """The moment a date and a time of day name in the service's time zone (Europe/London)."""
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, time))
