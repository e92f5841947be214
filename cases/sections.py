"""Sections that other apps add to the case page.

The case page is owned by `cases`, which must not import the apps built on it.
An app registers a section in its AppConfig.ready(); the case page renders each
registered template with the context its function returns for the person and user.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CaseSection:
    key: str
    title: str
    template_name: str
    context: Callable  # (offender, user) -> dict
    order: int = 100


_sections: dict[str, CaseSection] = {}


def register_case_section(section: CaseSection):
    _sections[section.key] = section


def case_sections():
    return sorted(_sections.values(), key=lambda section: section.order)
