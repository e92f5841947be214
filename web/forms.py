from django.forms.renderers import TemplatesSetting
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

SELECT_TEMPLATE = "govuk/widgets/select.html"


class GovukFormRenderer(TemplatesSetting):
    """Renders Django forms with GOV.UK Design System markup (templates/govuk/forms/)."""

    form_template_name = "govuk/forms/form.html"
    field_template_name = "govuk/forms/field.html"

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            return render_select(context["widget"])
        return super().render(template_name, context, request)


def render_select(widget):
    """The markup of templates/govuk/widgets/select.html, written out in Python.

    A template loop costs about 20 microseconds an option on a small CPU, and the case list's filters
    list every area and agency: a fifth of its filter form's time. The template stays the reference,
    and tests/test_select_markup.py checks the two give the same markup, character for character.
    """
    context = Context()  # escaped as a template escapes

    def shown(value):
        return render_value_in_context(value, context)

    def as_text(value):  # the template's `stringformat:'s'`, which keeps text marked safe as safe
        text = "%s" % value  # noqa: UP031 - exactly what stringformat does
        return mark_safe(text) if isinstance(value, SafeData) else text  # noqa: S308 - only what was safe already

    parts = ['<select name="', shown(widget["name"]), '"']
    for name, value in widget["attrs"].items():
        if value is not False:
            parts += [" ", shown(name)]
            if value is not True:
                parts += ['="', shown(as_text(value)), '"']
    parts.append(">")
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts += ['\n  <optgroup label="', shown(group_name), '">']
        for option in group_choices:
            selected = " selected" if option["selected"] else ""
            parts += ['\n  <option value="', shown(as_text(option["value"])), '"', selected, ">",
                      shown(option["label"]), "</option>"]
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)
