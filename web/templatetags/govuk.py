from django import forms, template

from web.widgets import GovukDateInput

register = template.Library()


@register.filter
def widget_kind(bound_field):
    """Which GOV.UK component renders this field."""
    widget = bound_field.field.widget
    if isinstance(widget, GovukDateInput):
        return "date"
    # Django's CheckboxSelectMultiple is a kind of RadioSelect, so it is asked about first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


@register.filter
def rag_tag_class(status):
    return {"red": "govuk-tag--red", "amber": "govuk-tag--orange", "green": "govuk-tag--green"}.get(
        status, "govuk-tag--grey"
    )


@register.simple_tag(takes_context=True)
def query_transform(context, **changes):
    """The current query string with some parameters replaced (for sorting and pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.filter
def page_window(paginator, current):
    """Page numbers around the current page, with an ellipsis for the gaps."""
    return list(paginator.get_elided_page_range(current, on_each_side=2, on_ends=1))
