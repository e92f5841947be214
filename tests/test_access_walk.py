"""Adversarial access test over every route of the URL conf, including routes added after it was written.

A "secret" person is led by the police and is on no cohort any other agency's
sharing agreement opens. Every model of the project's apps gets one row with
the same primary key, SECRET_PK, filled with the person's name wherever there
is text and pointing at the other SECRET_PK rows wherever there is a foreign
key. So whichever model a route's id refers to, SECRET_PK finds the secret
person's row of it.

Every route is then requested with every id set to SECRET_PK by staff of each
agency and role. Someone whose agency may not see the person must get the same
refusal (403, 404 or 405) as for an id that exists nowhere, so the refusal does
not disclose that the record exists, and no response (page, export, search,
autocomplete, drill-down or minutes) may contain the person's name or
identifiers. Routes without ids are requested with searches for the person.
"""

import datetime
import decimal
import html
import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.db import models, transaction
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Agency, CaseNote, Cohort, CohortMembership, Offender, Role

from .factories import (
    AgencyFactory,
    AreaFactory,
    MembershipFactory,
    OffenderFactory,
    SharingAgreementFactory,
    UserFactory,
)

SECRET_PK = 987_654
MISSING_PK = 987_653  # exists in no table: what a refusal for an unknown id looks like
SECRET_FIRST_NAMES = "Zebedee"
SECRET_LAST_NAME = "Secretperson"
SECRET_PNC = "2001/0987654S"
SECRET_CRN = "S987654"
SECRET_MARKERS = (SECRET_FIRST_NAMES, SECRET_LAST_NAME, SECRET_PNC, SECRET_CRN)
REFUSALS = {403, 404, 405}

# Namespaces that are not part of the partnership's case work, or gated elsewhere.
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_NAMES = {"logout", "login", "two_factor_verify", "two_factor_setup"}
# The API's own description holds no data, and is slow to generate forty times over.
SKIPPED_NAMES |= {"api:schema", "api:docs"}
# Searches use part of a name or number, so the search box repeating the query is not taken for a leak.
NAME_PART, PNC_PART = SECRET_LAST_NAME[:-2], SECRET_PNC[5:12]
SEARCH_QUERIES = [
    "",
    f"?q={NAME_PART}&term={NAME_PART}&search={NAME_PART}&name={NAME_PART}",
    f"?q={PNC_PART}&pnc={PNC_PART}&search={PNC_PART}",
    f"?q={NAME_PART}&export=csv&download=csv",
]


@dataclass(frozen=True)
class Route:
    path_template: str  # e.g. /cases/<pk>/edit/
    name: str
    kwargs: tuple = field(default=())

    def url(self, value):
        path = self.path_template
        for kwarg in self.kwargs:
            path = path.replace(f"<{kwarg}>", "json" if kwarg == "format" else str(value))
        return path


def walk_routes():
    """Every route of the URL conf (included apps and the API too), as a path template with its kwargs."""
    routes = {}
    for _view, regex, namespaces, name in extract_views_from_urlpatterns(get_resolver().url_patterns):
        namespace = ":".join(namespaces or [])
        if namespaces and namespaces[0] in SKIPPED_NAMESPACES:
            continue
        template = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", simplify_regex(regex))
        if template.startswith(settings.STATIC_URL) or "<format>" in template:
            continue  # static files; DRF's format-suffix twins of routes walked anyway
        kwargs = tuple(re.findall(r"<(\w+)>", template))
        full_name = f"{namespace}:{name}" if namespace else (name or template)
        route = Route(template, full_name, kwargs)
        if name in SKIPPED_NAMES or full_name in SKIPPED_NAMES:
            ROUTES_SKIPPED.append(route)
        else:
            routes[template] = route
    return sorted(routes.values(), key=lambda r: r.path_template)


ROUTES_SKIPPED = []
ROUTES = walk_routes()
ID_ROUTES = [r for r in ROUTES if r.kwargs]
PLAIN_ROUTES = [r for r in ROUTES if not r.kwargs]


# ---------------------------------------------------------------------------
# The secret person and one row of every model that belongs to them.


def project_models():
    root = str(settings.BASE_DIR)
    return [
        model for model in apps.get_models()
        if model._meta.app_config.path.startswith(root) and "site-packages" not in model._meta.app_config.path
        and model._meta.managed and not model._meta.proxy
    ]


def about_a_person(model, depth=3):
    """Whether the model's rows belong to a person: a chain of foreign keys leads to cases.Offender."""
    if model is Offender:
        return True
    if depth == 0:
        return False
    return any(
        f.is_relation and f.many_to_one and f.related_model is not model and about_a_person(f.related_model, depth - 1)
        for f in model._meta.concrete_fields
    )


def grants_access(model):
    """Object-permission rows would share the person with whichever group they name: never make them."""
    from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

    return issubclass(model, GroupObjectPermissionBase | UserObjectPermissionBase)


class SecretRows:
    """Builds a SECRET_PK row of every model, depending only on the models' own field definitions."""

    def __init__(self, fallbacks):
        self.fallbacks = fallbacks  # model -> an instance to use when the SECRET_PK row cannot be made
        self.failed = {}

    def row(self, model):
        if model not in PROJECT_MODELS or grants_access(model):
            return None
        found = model._default_manager.filter(pk=SECRET_PK).first()
        if found is not None or model in self.failed or model in self.fallbacks:
            return found
        self.failed[model] = "in progress"  # breaks cycles of required foreign keys
        for strategy in range(4):
            try:
                values = self._values(model, strategy)
                with transaction.atomic():
                    instance = model(**values)
                    instance.save()
                del self.failed[model]
                return instance
            except Exception as error:  # noqa: BLE001 - any refusal means: try the next way of filling it
                self.failed[model] = f"{type(error).__name__}: {error}"[:300]
        return None

    def _related(self, target):
        return self.row(target) or self.fallbacks.get(target) or target._default_manager.order_by("pk").first()

    def _values(self, model, strategy):
        values = {}
        # Only a person's own rows carry their name; areas, agencies and staff are not secret.
        marker = SECRET_LAST_NAME if about_a_person(model) else "Walk"
        today = timezone.localdate()
        for f in model._meta.concrete_fields:
            if f.primary_key:
                values[f.attname] = SECRET_PK
                continue
            if f.is_relation:
                related = self._related(f.related_model)
                if related is None and not f.null:
                    raise ValueError(f"nothing for {model.__name__}.{f.name} to point at")
                values[f.name] = related
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                continue
            choices = [value for value, _ in f.flatchoices if value not in ("", None)]
            if f.null and strategy in (0, 1):
                values[f.attname] = None
            elif choices:
                use_blank = f.blank and strategy in (0, 2)
                values[f.attname] = "" if use_blank and isinstance(f, models.CharField) else (
                    choices[0] if strategy < 3 else choices[-1])
            elif f.has_default() and not isinstance(f, models.CharField | models.TextField):
                values[f.attname] = f.get_default()
            else:
                values[f.attname] = self._sample(f, today, marker)
        return values

    @staticmethod
    def _sample(f, today, marker):
        if isinstance(f, models.EmailField):
            return f"secret{SECRET_PK}@example.org"
        if isinstance(f, models.CharField | models.TextField):
            text = f"{marker} {f.name} {SECRET_PK}"
            return text[: f.max_length] if f.max_length else text
        if isinstance(f, models.BooleanField):
            return False
        if isinstance(f, models.DateTimeField):
            return timezone.now()
        if isinstance(f, models.DateField):
            return today
        if isinstance(f, models.TimeField):
            return datetime.time(12, 0)
        if isinstance(f, models.DurationField):
            return datetime.timedelta(0)
        if isinstance(f, models.DecimalField):
            return decimal.Decimal(1)
        if isinstance(f, models.FloatField):
            return 1.0
        if isinstance(f, models.IntegerField):
            return 1
        if isinstance(f, models.UUIDField):
            return uuid.uuid4()
        if isinstance(f, models.JSONField):
            return {}
        if isinstance(f, models.GenericIPAddressField):
            return "127.0.0.1"
        return f.get_default()


PROJECT_MODELS = project_models()


@dataclass
class World:
    secret: Offender
    shared: Offender
    agencies: dict
    staff: dict
    uncreated: dict

    def outsiders(self):
        """Staff who must not see the secret person: by the fixture's design, not by asking the rule itself,
        so a broken visibility rule is caught as well as a view that bypasses it."""
        return [(who, user) for who, user in self.staff.items() if who[0] != "police"]


STAFF = [
    # (agency key, role): everyone who may or may not see the secret person.
    ("police", Role.OFFENDER_MANAGER), ("police", Role.READ_ONLY), ("police", Role.PANEL_CHAIR),
    ("police", Role.AGENCY_ADMIN),
    ("probation", Role.OFFENDER_MANAGER), ("probation", Role.READ_ONLY), ("probation", Role.PANEL_CHAIR),
    ("probation", Role.AGENCY_ADMIN),
    ("council", Role.OFFENDER_MANAGER), ("council", Role.AGENCY_ADMIN),
    ("treatment", Role.OFFENDER_MANAGER), ("treatment", Role.PANEL_CHAIR),
    ("prison", Role.OFFENDER_MANAGER),
    ("opcc", Role.ANALYST),
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the whole walk, inside a transaction rolled back at the end; each test runs in a
    savepoint of it, so nothing a request changes reaches the next test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def build_world():
    area = AreaFactory(name="Walkton", code="walkton")
    agencies = {
        "police": AgencyFactory(name="Walkton Police", kind=Agency.Kind.POLICE, area=area),
        "probation": AgencyFactory(name="Walkton Probation", kind=Agency.Kind.PROBATION, area=area),
        "council": AgencyFactory(name="Walkton Council", kind=Agency.Kind.LOCAL_AUTHORITY, area=area),
        "treatment": AgencyFactory(name="Walkton Recovery Service", kind=Agency.Kind.TREATMENT, area=area),
        "prison": AgencyFactory(name="HMP Walkton", kind=Agency.Kind.PRISON, area=area),
        "opcc": AgencyFactory(name="Walkton PCC", kind=Agency.Kind.OPCC, area=None),
    }
    SharingAgreementFactory(agency=agencies["probation"], cohort=Cohort.IOM)
    SharingAgreementFactory(agency=agencies["treatment"], cohort=Cohort.DIP)
    SharingAgreementFactory(agency=agencies["prison"], cohort=Cohort.MAPPA)
    staff = {
        (key, role): UserFactory(username=f"walk.{key}.{role}", agency=agencies[key], role=role)
        for key, role in STAFF
    }
    police_om = staff[("police", Role.OFFENDER_MANAGER)]
    # Someone probation sees through the IOM clause of the sharing agreement.
    shared = OffenderFactory(first_names="Jordan", last_name="Ashworth", area=area, lead_agency=agencies["police"],
                             lead_offender_manager=police_om)
    MembershipFactory(offender=shared, cohort=Cohort.IOM)
    secret = OffenderFactory(
        pk=SECRET_PK, first_names=SECRET_FIRST_NAMES, last_name=SECRET_LAST_NAME, pnc_number=SECRET_PNC,
        crn=SECRET_CRN, area=area, lead_agency=agencies["police"], lead_offender_manager=police_om,
    )
    # Their only cohort is one no other agency's agreement opens.
    CohortMembership.objects.create(pk=SECRET_PK, offender=secret, cohort=Cohort.SGV)
    builder = SecretRows({Agency: agencies["police"], Offender: secret})
    for model in PROJECT_MODELS:
        if model is not Agency:  # the person's agency is the police; other agencies are not secret
            builder.row(model)
    uncreated = {m._meta.label: why for m, why in builder.failed.items()}
    return World(secret=secret, shared=shared, agencies=agencies, staff=staff, uncreated=uncreated)


def verified_client(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def response_text(response):
    """Everything a user receives: headers, body, and the cells of a spreadsheet download."""
    parts = [f"{k}: {v}" for k, v in response.items()]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                parts.extend(archive.read(n).decode("utf-8", "ignore") for n in archive.namelist())
        except zipfile.BadZipFile:
            pass
    parts.append(body.decode("utf-8", "ignore"))
    return "\n".join(parts)


def leaked_markers(response):
    text = response_text(response).casefold()  # pages may show a surname in capitals
    return [marker for marker in SECRET_MARKERS if marker.casefold() in text]


def may_see(user, secret):
    return Offender.objects.visible_to(user).filter(pk=secret.pk).exists()


def view_as_lead_agency(world, url):
    """The page as the police see it, in the first of their roles that is let in (panel routes need a chair)."""
    response = None
    for role in (Role.OFFENDER_MANAGER, Role.PANEL_CHAIR, Role.AGENCY_ADMIN):
        response = verified_client(world.staff[("police", role)]).get(url)
        if response.status_code not in (403, 404):
            break
    return response


@pytest.mark.django_db
def test_the_walk_finds_routes_with_ids_and_the_secret_person_is_hidden_from_other_agencies(world):
    assert any(r.name == "cases:detail" for r in ID_ROUTES)
    assert not any(may_see(u, world.secret) for _, u in world.outsiders()), "only the police may see the person"
    assert may_see(world.staff[("police", Role.OFFENDER_MANAGER)], world.secret)
    # The lead agency really reaches the secret rows, so refusals elsewhere are not vacuous.
    page = verified_client(world.staff[("police", Role.OFFENDER_MANAGER)]).get(f"/cases/{SECRET_PK}/")
    assert page.status_code == 200 and SECRET_LAST_NAME in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: r.path_template)
def test_route_with_an_id_refuses_staff_who_may_not_see_the_person(world, route):
    # A route whose SECRET_PK object the lead agency sees without the person's name or identifiers is
    # reference data (a pathway, a measure), not the person's: there, only leaks and errors are checked.
    # POST-only routes (405 to a GET) act on something: they are held to the refusal rule too.
    lead_view = view_as_lead_agency(world, route.url(SECRET_PK))
    about_the_person = lead_view.status_code == 405 or bool(leaked_markers(lead_view))
    problems = []
    for (key, role), user in world.outsiders():
        client = verified_client(user)
        for method in ("get", "post"):
            secret = getattr(client, method)(route.url(SECRET_PK))
            missing = getattr(client, method)(route.url(MISSING_PK))
            who = f"{method.upper()} as {key} {role}"
            if secret.status_code >= 500:
                problems.append(f"{who}: {secret.status_code}")
            elif not about_the_person:
                pass
            elif secret.status_code not in REFUSALS:
                problems.append(f"{who}: {secret.status_code}, expected 403/404")
            elif secret.status_code != missing.status_code:
                problems.append(
                    f"{who}: {secret.status_code} for the secret record but {missing.status_code} for an id that"
                    " does not exist, which discloses that the record exists"
                )
            if leaks := leaked_markers(secret):
                problems.append(f"{who}: response contains {leaks}")
    assert not problems, f"{route.path_template} ({route.name}):\n" + "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("route", PLAIN_ROUTES, ids=lambda r: r.path_template)
def test_route_without_an_id_never_shows_the_person_to_staff_who_may_not_see_them(world, route):
    problems = []
    for (key, role), user in world.outsiders():
        client = verified_client(user)
        for query in SEARCH_QUERIES:
            response = client.get(route.path_template + query)
            who = f"GET {query or '(no query)'} as {key} {role}"
            if response.status_code >= 500:
                problems.append(f"{who}: {response.status_code}")
            if leaks := leaked_markers(response):
                problems.append(f"{who}: response contains {leaks}")
    assert not problems, f"{route.path_template} ({route.name}):\n" + "\n".join(problems)


@pytest.mark.django_db
def test_restricted_note_is_not_shown_to_a_partner_who_sees_the_person(world):
    police_om = world.staff[("police", Role.OFFENDER_MANAGER)]
    CaseNote.objects.create(offender=world.shared, author=police_om, agency=world.agencies["police"],
                            text="Policeonlyintel: seen with associates", sharing=CaseNote.Sharing.AGENCY)
    probation = world.staff[("probation", Role.OFFENDER_MANAGER)]
    assert may_see(probation, world.shared)
    client = verified_client(probation)
    pages = [f"/cases/{world.shared.pk}/", "/cases/?q=Policeonly"]
    pages += [r.path_template for r in PLAIN_ROUTES]
    for url in pages:
        assert "policeonlyintel" not in response_text(client.get(url)).casefold(), url


@pytest.mark.django_db
def test_walk_report_models_without_a_secret_row_and_routes_the_lead_agency_cannot_reach(world, capsys):
    """Lists (without failing) what the walk reaches less deeply: models the generic builder could not fill,
    and routes where even the lead agency's offender manager is refused, so a refusal there proves less."""
    unreached = []
    for route in ID_ROUTES:
        status = view_as_lead_agency(world, route.url(SECRET_PK)).status_code
        if status in (403, 404):
            unreached.append(f"{route.path_template} ({route.name}): {status}")
    with capsys.disabled():
        for label, why in sorted(world.uncreated.items()):
            print(f"\n[access walk] no secret row for {label}: {why}")
        for line in unreached:
            print(f"\n[access walk] lead agency refused too: {line}")
    assert "cases.Offender" not in world.uncreated
    assert len(unreached) < len(ID_ROUTES)


LINK = re.compile(r'(?:href|action)="(/[^"#]*)"')
MAX_LINKED_PAGES = 300


def linked_urls(client, urls):
    """Local links and form targets on the pages the client can open (drill-downs, exports, filters, pages)."""
    found = set()
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            found.update(html.unescape(link) for link in LINK.findall(response.content.decode()))
    return found


@pytest.mark.django_db
def test_pages_linked_from_the_lead_agencys_pages_never_show_the_person_to_outsiders(world):
    """Routes with names rather than ids (a measure's drill-down, an export format) are reached through the
    links on the pages the lead agency sees: every such link is then opened by everyone else."""
    lead = verified_client(world.staff[("police", Role.OFFENDER_MANAGER)])
    walked = {r.path_template for r in PLAIN_ROUTES} | {r.url(SECRET_PK) for r in ID_ROUTES}
    skipped_paths = {r.path_template for r in ROUTES_SKIPPED}
    links = sorted(
        link for link in linked_urls(lead, sorted(walked))
        if link not in walked and link.split("?")[0] not in skipped_paths
        and not link.startswith((settings.STATIC_URL, "/admin/"))
    )[:MAX_LINKED_PAGES]
    assert links, "the lead agency's pages should link somewhere"
    problems = []
    # One member of staff of each other agency keeps this to a few thousand requests.
    one_per_agency = {key: (key, role, user) for (key, role), user in reversed(world.outsiders())}
    for key, role, user in one_per_agency.values():
        client = verified_client(user)
        for link in links:
            response = client.get(link)
            if response.status_code >= 500:
                problems.append(f"GET {link} as {key} {role}: {response.status_code}")
            if leaks := leaked_markers(response):
                problems.append(f"GET {link} as {key} {role}: response contains {leaks}")
    assert not problems, "\n".join(problems)
