"""Selects are written out in Python (web.forms.render_select), with the markup of govuk/widgets/select.html."""

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from cases.filters import CaseFilter
from cases.models import Offender
from web.forms import SELECT_TEMPLATE, GovukFormRenderer, render_select

from .factories import AreaFactory


class TemplateRenderer(GovukFormRenderer):
    """The GOV.UK renderer with the select template itself, as the reference."""

    def render(self, template_name, context, request=None):
        return TemplatesSetting.render(self, template_name, context, request)


def from_template(widget, name, value, attrs=None):
    return TemplateRenderer().render(SELECT_TEMPLATE, widget.get_context(name, value, attrs))


WIDGETS = {
    "escaped labels and values": (forms.Select(choices=[("a&b", "Fish & chips"), ('say "hi"', "<b>Bold</b>")]), "a&b"),
    "attributes that are true, false or none": (
        forms.Select(attrs={"class": "govuk-select", "required": True, "disabled": False, "data-none": None,
                            "aria-describedby": 'x" onclick="y'}, choices=[("1", "One")]), None),
    "groups": (forms.Select(choices=[("Group <1>", [("1", "One"), ("2", "Two")]), ("3", "Three"),
                                     ("", [("4", "Four")])]), "2"),
    "several chosen": (forms.SelectMultiple(choices=[(1, "One"), (2, "Two"), (3, "Three")]), [1, 3]),
    "yes, no or unknown": (forms.NullBooleanSelect(), True),
    "safe, lazy and number labels": (
        forms.Select(choices=[("safe", mark_safe("<em>Safe</em>")), ("lazy", gettext_lazy("Any status")),  # noqa: S308
                              (1000, 12345), (None, "Nothing")]), 1000),
    "no choices": (forms.Select(choices=[]), ""),
}


@pytest.mark.parametrize("widget, value", WIDGETS.values(), ids=WIDGETS.keys())
def test_a_select_written_in_python_is_the_template_character_for_character(widget, value):
    attrs = {"id": "id_choice", "class": "govuk-select"}
    assert render_select(widget.get_context("choice", value, attrs)["widget"]) == from_template(
        widget, "choice", value, attrs)


@pytest.mark.parametrize("query", [{}, {"area": "x", "rag_status": "purple"}, {"cohort": "iom", "sort": "-dob"}])
def test_the_case_list_filters_render_as_the_templates_do(partnership, query):
    AreaFactory(name='Hill & "Dale"', code="hill")
    form = CaseFilter(query, queryset=Offender.objects.all(), user=partnership.police_om).form
    form.is_valid()
    python = str(form)
    form.renderer = TemplateRenderer()
    assert python == str(form) and '<select name="area"' in python
