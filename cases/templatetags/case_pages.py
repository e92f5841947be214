from django import template

from cases.sections import case_navigation

register = template.Library()


@register.inclusion_tag("cases/_case_header.html")
def case_header(offender, current):
    """The person's name and identifiers above the case's sub-navigation, with `current` marked."""
    return {"offender": offender, "navigation": case_navigation(offender, current)}
