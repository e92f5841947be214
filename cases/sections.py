"""Sections that other apps add to a case: a page of the case, a card on its overview, items needing attention.

The case pages are owned by `cases`, which must not import the apps built on it. An app registers a
section in its AppConfig.ready(). The section gets a tab in the case's sub-navigation: its own page
(`url_name`, a route taking the person's id) or a case page that renders `template_name` with what
`context(offender, user)` returns. With `overview(offender, user)` it also puts a summary card
(`overview_template`) on the case overview; the dict it returns may carry `attention`, a list of
`Attention` items for the overview's "Needs your attention" list.

Every function is called for a person the user has already been allowed to see, and must run a fixed
number of queries whatever the length of the person's history.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class CaseSection:
    key: str
    title: str
    template_name: str = ""
    context: Callable | None = None  # (offender, user) -> dict
    order: int = 100
    url_name: str = ""
    overview_template: str = ""
    overview: Callable | None = None  # (offender, user) -> dict, with an optional "attention" list


@dataclass(frozen=True)
class Attention:
    """Something on the case that someone needs to do: what, where to do it, and by when."""

    text: str
    url: str
    due_on: datetime.date | None = None

    def is_overdue(self, today):
        return self.due_on is not None and self.due_on < today


_sections: dict[str, CaseSection] = {}


def register_case_section(section: CaseSection):
    _sections[section.key] = section


def case_sections():
    return sorted(_sections.values(), key=lambda section: section.order)


def get_case_section(key):
    return _sections.get(key)


# The case's own pages, placed among the registered sections by their order.
CASE_PAGES = [
    ("overview", "Overview", "cases:detail", 0),
    ("personal", "Personal details", "cases:personal", 10),
    ("sentence", "Sentence and compliance", "cases:sentence", 30),
    ("activity", "Activity log", "cases:activity", 60),
    ("notes", "Notes", "cases:notes", 70),
]


def case_navigation(offender, current):
    """The case's sub-navigation: [{"key", "label", "url", "current"}], in order."""
    items = [(order, key, label, reverse(url_name, args=[offender.pk])) for key, label, url_name, order in CASE_PAGES]
    for section in case_sections():
        url_name = section.url_name or f"cases:section_{section.key}"
        items.append((section.order, section.key, section.title, reverse(url_name, args=[offender.pk])))
    return [
        {"key": key, "label": label, "url": url, "current": key == current}
        for _order, key, label, url in sorted(items, key=lambda item: item[0])
    ]
