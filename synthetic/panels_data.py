"""Panels at scale: 60 panels across the areas, each with five years of monthly meetings, attendance and agendas."""

from cases.models import Agency, Role, User

from . import YEARS_OF_HISTORY

AGENDA_ITEMS_PER_MEETING = 15
DISCUSSIONS = [
    "Engaging well; keep on the current plan.", "Missed appointments this month; warning letter agreed.",
    "Housing offer made; review next month.", "Intelligence of further offending; increase home visits.",
    "Started treatment; partners report good progress.",
]


def available():
    from django.apps import apps

    try:
        apps.get_model("panels", "Meeting")
        apps.get_model("panels", "AgendaItem")
    except LookupError:
        return False
    return True


def setup_panels(plan, context):
    """Panels and their member agencies through the ORM: a few hundred rows."""
    from panels.models import Panel, PanelKind, PanelMembership

    by_kind = context["by_kind"]
    areas = context["areas"]
    kinds = list(PanelKind)
    chairs = list(User.objects.filter(role=Role.PANEL_CHAIR, agency__kind__in=[
        Agency.Kind.POLICE, Agency.Kind.PROBATION]).order_by("pk"))
    councils = {a.area_id: a.pk for a in context["agencies"] if a.kind == Agency.Kind.LOCAL_AUTHORITY}
    panels = []
    for index in range(plan.panels):
        area = areas[index // len(kinds) % len(areas)]
        kind = kinds[index % len(kinds)]
        series = index // (len(kinds) * len(areas))
        name = f"{area.name} {kind.label}" + (f" {series + 1}" if series else "")
        panel, created = Panel.objects.get_or_create(
            name=name, defaults={"kind": kind, "area": area, "chair": chairs[index % len(chairs)]}
        )
        if created:
            members = [by_kind[Agency.Kind.POLICE][0], by_kind[Agency.Kind.PROBATION][0]]
            if kind == PanelKind.MAPPA:
                members += by_kind[Agency.Kind.PRISON][:2]
            if kind == PanelKind.DIP:
                members += by_kind[Agency.Kind.TREATMENT][:2]
            if area.pk in councils:
                members.append(councils[area.pk])
            for agency_id in members:
                # save() fills in the MAPPA role from the kind of agency.
                PanelMembership(panel=panel, agency_id=agency_id).save()
        panels.append(panel)
    return panels


def generate(plan, context, step):
    panels = setup_panels(plan, context)
    common = context["common"]
    panel_ids = [p.pk for p in panels]

    def s(column):
        return plan.salt(800 + column)

    months = YEARS_OF_HISTORY * 12
    # Monthly meetings for five years (closed, with minutes), and the next one scheduled.
    step("panel meetings", """
        INSERT INTO panels_meeting (held_on, location, status, agenda_generated_at, closed_at, created_at,
                                    closed_by_id, panel_id)
        SELECT held_on, 'Partnership hub, meeting room ' || (1 + mod(p.id, 4))::text,
            CASE WHEN held_on < %(as_of)s::date THEN 'closed' ELSE 'scheduled' END,
            CASE WHEN held_on < %(as_of)s::date THEN held_on::timestamptz - interval '5 days' END,
            CASE WHEN held_on < %(as_of)s::date THEN held_on::timestamptz + interval '15 hours' END,
            held_on::timestamptz - interval '30 days',
            CASE WHEN held_on < %(as_of)s::date THEN p.chair_id END, p.id
        FROM panels_panel p
        CROSS JOIN LATERAL (
            SELECT (date_trunc('month', %(as_of)s::date - make_interval(months => %(months)s))::date
                    + make_interval(months => m) + make_interval(days => 5 + mod(p.id, 20)::integer))::date AS held_on
            FROM generate_series(1, %(months)s + 1) AS m
        ) AS dates
        WHERE p.id = ANY(%(panels)s)
        ORDER BY held_on, p.id
    """, {**common, "panels": panel_ids, "months": months}, table="panels_meeting")

    step("panel attendance", """
        INSERT INTO panels_attendance (name, status, agency_id, meeting_id)
        SELECT a.name || ' representative',
            CASE WHEN pg_temp.rnd(m.id * 64 + pm.agency_id, %(s_att)s) < 0.9 THEN 'present' ELSE 'apologies' END,
            pm.agency_id, m.id
        FROM panels_meeting m
        JOIN panels_panelmembership pm ON pm.panel_id = m.panel_id
        JOIN cases_agency a ON a.id = pm.agency_id
        WHERE m.panel_id = ANY(%(panels)s) AND m.status = 'closed'
        ORDER BY m.id, pm.agency_id
    """, {**common, "panels": panel_ids, "s_att": s(1)}, table="panels_attendance")

    # A version column (optimistic locking) arrived after the first panels migration.
    from panels.models import AgendaItem

    has_version = any(f.column == "version" for f in AgendaItem._meta.concrete_fields)
    version_column, version_value = (", version", ", 1") if has_version else ("", "")

    # Distinct people per meeting: a start drawn per meeting, stepping by a prime larger than any position.
    step("panel agenda items", """
        INSERT INTO panels_agendaitem (position, new_referral, red, review_due, overdue_actions, released,
                                       carried_forward, added_by_hand, added_reason, discussion, next_review_on,
                                       discussed_at, updated_at, offender_id, rag_change_id, meeting_id VERSION_COLUMN)
        SELECT pos, pg_temp.rnd(m.id * 32 + pos, %(s_flag)s) < 0.2, pg_temp.rnd(m.id * 32 + pos, %(s_flag)s + 1) < 0.3,
            pg_temp.rnd(m.id * 32 + pos, %(s_flag)s + 2) < 0.4, pg_temp.rnd(m.id * 32 + pos, %(s_flag)s + 3) < 0.15,
            pg_temp.rnd(m.id * 32 + pos, %(s_flag)s + 4) < 0.1, pg_temp.rnd(m.id * 32 + pos, %(s_flag)s + 5) < 0.25,
            false, '',
            CASE WHEN m.status = 'closed'
                 THEN (%(discussions)s::text[])[1 + pg_temp.pick(m.id * 32 + pos, %(s_text)s, %(n_discussions)s)]
                 ELSE '' END,
            CASE WHEN m.status = 'closed' THEN m.held_on + 28 END,
            CASE WHEN m.status = 'closed' THEN m.held_on::timestamptz + interval '11 hours' END,
            m.held_on::timestamptz,
            %(base)s + 1 + mod(pg_temp.pick(m.id, %(s_who)s, %(n)s) + pos * 7919, %(n)s),
            NULL, m.id VERSION_VALUE
        FROM panels_meeting m CROSS JOIN generate_series(1, %(items)s) AS pos
        WHERE m.panel_id = ANY(%(panels)s) AND m.status = 'closed'
        ORDER BY m.id, pos
    """.replace("VERSION_COLUMN", version_column).replace("VERSION_VALUE", version_value),
        {**common, "panels": panel_ids, "items": AGENDA_ITEMS_PER_MEETING, "discussions": DISCUSSIONS,
          "n_discussions": len(DISCUSSIONS), "s_flag": s(10), "s_text": s(20), "s_who": s(21)},
        table="panels_agendaitem")
