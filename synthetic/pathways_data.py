"""Resettlement pathways at scale: needs assessments, action plans, dated statuses and referrals."""

from cases.models import Agency

from . import weighted_pool

NEED_LEVELS = weighted_pool([("none", 30), ("some", 45), ("significant", 25)])
ACTION_TEXTS = [
    "Apply to the rent deposit scheme", "Attend the Jobcentre drop-in", "Book a CV workshop",
    "Referral to debt advice", "Register with a GP", "Attend treatment assessment", "Open a bank account",
    "Contact the Homeless Persons Unit", "Attend the thinking skills programme", "Meet the family support worker",
]
RECENT_ACTION_STATUSES = weighted_pool([("open", 50), ("in_progress", 30), ("done", 15), ("cancelled", 5)])
OLD_ACTION_STATUSES = weighted_pool([("done", 70), ("cancelled", 10), ("open", 12), ("in_progress", 8)])
ACCOMMODATION = weighted_pool([
    ("settled", 45), ("temporary", 25), ("approved_premises", 8), ("no_fixed_abode", 12), ("custody", 10),
])
ETE = weighted_pool([("employed", 22), ("training", 10), ("education", 6), ("unemployed", 50), ("not_available", 12)])
BENEFITS = weighted_pool([("in_place", 50), ("claim_made", 20), ("not_in_place", 15), ("not_needed", 15)])
TREATMENT_STAGES = weighted_pool([
    ("referred", 15), ("assessed", 15), ("in_treatment", 40), ("completed", 15), ("dropped_out", 15),
])
REFERRAL_STATUSES = weighted_pool([
    ("referred", 10), ("accepted", 10), ("declined", 8), ("started", 25), ("completed", 35), ("withdrawn", 12),
])
SERVICES = [
    ("accommodation", "Rent deposit scheme", 72), ("accommodation", "Homeless Persons Unit", 24),
    ("accommodation", "Supported housing panel", None), ("ete", "Jobcentre drop-in", None),
    ("ete", "CV workshop", None), ("finance", "Debt advice", None), ("health", "GP registration support", None),
    ("drugs", "Drug treatment referral", 24), ("alcohol", "Alcohol treatment referral", 24),
    ("families", "Family support service", None), ("attitudes", "Thinking skills programme", None),
    ("abuse", "Women's centre support", 48),
]


def available():
    from django.apps import apps

    try:
        apps.get_model("pathways", "Action")
        apps.get_model("pathways", "Referral")
    except LookupError:
        return False
    return True


def generate(plan, context, step):
    from pathways.models import Pathway, Service

    common = context["common"]
    by_kind = context["by_kind"]
    pathways = {p.key: p.pk for p in Pathway.objects.all()}
    pathway_ids = sorted(pathways.values())
    providers = by_kind.get(Agency.Kind.TREATMENT, []) + by_kind.get(Agency.Kind.VOLUNTARY, [])
    services = []
    for index, (key, name, hours) in enumerate(SERVICES):
        if key not in pathways:
            continue
        service, _ = Service.objects.get_or_create(
            name=name, area=None,
            defaults={"pathway_id": pathways[key], "provider_id": providers[index % len(providers)],
                      "target_first_contact_hours": hours},
        )
        services.append(service.pk)
    casework_agencies = sorted(
        by_kind.get(Agency.Kind.LOCAL_AUTHORITY, []) + by_kind.get(Agency.Kind.TREATMENT, [])
        + by_kind.get(Agency.Kind.DWP, []) + by_kind.get(Agency.Kind.VOLUNTARY, [])
    )

    def s(column):
        return plan.salt(500 + column)

    step("needs assessments", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   %(as_of)s::date - pg_temp.pick(g, %(s_when)s, %(days)s) AS assessed_on
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO pathways_needassessment (level, rationale, assessed_on, created_at, agency_id, assessed_by_id,
                                             offender_id, pathway_id)
        SELECT (%(levels)s::text[])[1 + pg_temp.pick(g, %(s_level)s, %(n_levels)s)], '', assessed_on,
            assessed_on::timestamptz + interval '11 hours', o.lead_agency_id, o.lead_offender_manager_id,
            src.offender_id, (%(pathways)s::bigint[])[1 + pg_temp.pick(g, %(s_pathway)s, %(n_pathways)s)]
        FROM src JOIN cases_offender o ON o.id = src.offender_id
        ORDER BY assessed_on, g
    """, {**common, "rows": plan.counts["needs"], "levels": NEED_LEVELS, "n_levels": len(NEED_LEVELS),
          "pathways": pathway_ids, "n_pathways": len(pathway_ids),
          "s_who": s(1), "s_when": s(2), "s_level": s(3), "s_pathway": s(4)}, table="pathways_needassessment")

    # Each action addresses an assessment of the same person on the same pathway. Half are owned by the
    # lead agency's offender manager, the rest by another partner (the owner is someone there).
    step("actions", """
        WITH needs AS (
            SELECT min(id) AS first, count(*) AS total FROM pathways_needassessment
            WHERE offender_id > %(base)s
        ), oms AS (
            SELECT agency_id, array_agg(id ORDER BY id) AS ids FROM cases_user
            WHERE role = 'offender_manager' AND id = ANY(%(staff)s) GROUP BY agency_id
        ), src AS (
            SELECT g, needs.first + pg_temp.pick(g, %(s_need)s, needs.total::integer) AS need_id,
                   pg_temp.rnd(g, %(s_owner)s) < 0.5 AS by_lead,
                   (%(agencies)s::bigint[])[1 + pg_temp.pick(g, %(s_owner)s + 1, %(n_agencies)s)] AS partner
            FROM needs, generate_series(1, %(rows)s) AS g
        ), shaped AS (
            SELECT src.g, n.id AS need_id, n.offender_id, n.pathway_id,
                   least(%(as_of)s::date, n.assessed_on + pg_temp.pick(g, %(s_raised)s, 30)) AS raised_on,
                   CASE WHEN by_lead THEN o.lead_agency_id ELSE partner END AS owner_agency_id,
                   CASE WHEN by_lead THEN o.lead_offender_manager_id END AS lead_owner
            FROM src JOIN pathways_needassessment n ON n.id = src.need_id
            JOIN cases_offender o ON o.id = n.offender_id
        ), dated AS (
            SELECT *, raised_on + 7 + pg_temp.pick(g, %(s_due)s, 84) AS due_on FROM shaped
        ), decided AS (
            SELECT dated.*, oms.ids AS partner_oms,
                   CASE WHEN due_on > %(as_of)s::date - 30
                        THEN (%(recent)s::text[])[1 + pg_temp.pick(g, %(s_status)s, %(n_recent)s)]
                        ELSE (%(old)s::text[])[1 + pg_temp.pick(g, %(s_status)s, %(n_old)s)] END AS status
            FROM dated LEFT JOIN oms ON oms.agency_id = dated.owner_agency_id
        )
        INSERT INTO pathways_action (description, raised_on, due_on, status, outcome, completed_on, source_reference,
                                     created_at, updated_at, version, created_by_id, offender_id, owner_id,
                                     owner_agency_id, need_id, pathway_id)
        SELECT (%(texts)s::text[])[1 + pg_temp.pick(g, %(s_text)s, %(n_texts)s)], raised_on, due_on, status, '',
            CASE WHEN status IN ('done', 'cancelled')
                 THEN least(%(as_of)s::date, raised_on + 1 + pg_temp.pick(g, %(s_done)s, 120)) END,
            CASE WHEN pg_temp.rnd(g, %(s_src)s) < 0.3 THEN 'IOM main panel' ELSE '' END,
            raised_on::timestamptz + interval '12 hours', raised_on::timestamptz + interval '12 hours', 1,
            coalesce(lead_owner, partner_oms[1]), offender_id,
            coalesce(lead_owner, partner_oms[1 + pg_temp.pick(g, %(s_who)s, cardinality(partner_oms))]),
            owner_agency_id, need_id, pathway_id
        FROM decided ORDER BY raised_on, g
    """, {**common, "rows": plan.counts["actions"], "agencies": casework_agencies,
          "n_agencies": len(casework_agencies), "recent": RECENT_ACTION_STATUSES,
          "n_recent": len(RECENT_ACTION_STATUSES), "old": OLD_ACTION_STATUSES, "n_old": len(OLD_ACTION_STATUSES),
          "texts": ACTION_TEXTS, "n_texts": len(ACTION_TEXTS),
          "s_need": s(10), "s_owner": s(11), "s_raised": s(13), "s_due": s(14), "s_status": s(15),
          "s_done": s(16), "s_src": s(17), "s_who": s(18), "s_text": s(19)}, table="pathways_action")

    for label, table, pool, per_person, salt in [
        ("accommodation statuses", "pathways_accommodationstatus", ACCOMMODATION, 1.5, 30),
        ("ETE statuses", "pathways_etestatus", ETE, 1.2, 40),
        ("benefit statuses", "pathways_benefitstatus", BENEFITS, 0.6, 50),
    ]:
        release = ", on_release_day" if table == "pathways_accommodationstatus" else ""
        release_value = (
            ", status <> 'custody' AND pg_temp.rnd(g, %(s_release)s) < 0.2" if release else ""
        )
        step(label, f"""
            WITH src AS (
                SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                       %(as_of)s::date - pg_temp.pick(g, %(s_when)s, %(days)s) AS effective_on,
                       (%(pool)s::text[])[1 + pg_temp.pick(g, %(s_status)s, %(n_pool)s)] AS status
                FROM generate_series(1, %(rows)s) AS g
            )
            INSERT INTO {table} (effective_on, notes, recorded_at, status, agency_id, offender_id,
                                 recorded_by_id{release})
            SELECT effective_on, '', effective_on::timestamptz + interval '15 hours', status, o.lead_agency_id,
                src.offender_id, o.lead_offender_manager_id{release_value}
            FROM src JOIN cases_offender o ON o.id = src.offender_id ORDER BY effective_on, g
        """,  # noqa: S608 - the table names are the constants above
            {**common, "rows": max(1, round(common["n"] * per_person)), "pool": pool, "n_pool": len(pool),
              "s_who": s(salt), "s_when": s(salt + 1), "s_status": s(salt + 2), "s_release": s(salt + 3)},
            table=table)

    treatment = by_kind.get(Agency.Kind.TREATMENT, [])
    step("treatment engagement", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   %(as_of)s::date - pg_temp.pick(g, %(s_when)s, %(days)s) AS effective_on,
                   CASE WHEN pg_temp.rnd(g, %(s_sub)s) < 0.65 THEN 'drugs' ELSE 'alcohol' END AS substance
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO pathways_treatmentengagement (effective_on, notes, recorded_at, substance, stage, requirement,
                                                  agency_id, offender_id, provider_id, recorded_by_id)
        SELECT effective_on, '', effective_on::timestamptz + interval '15 hours', substance,
            (%(stages)s::text[])[1 + pg_temp.pick(g, %(s_stage)s, %(n_stages)s)],
            CASE WHEN pg_temp.rnd(g, %(s_req)s) < 0.4 THEN CASE substance WHEN 'drugs' THEN 'drr' ELSE 'atr' END
                 ELSE 'none' END,
            o.lead_agency_id, src.offender_id,
            (%(providers)s::bigint[])[1 + pg_temp.pick(g, %(s_provider)s, %(n_providers)s)],
            o.lead_offender_manager_id
        FROM src JOIN cases_offender o ON o.id = src.offender_id ORDER BY effective_on, g
    """, {**common, "rows": max(1, round(common["n"] * 0.6)), "stages": TREATMENT_STAGES,
          "n_stages": len(TREATMENT_STAGES), "providers": treatment, "n_providers": len(treatment),
          "s_who": s(60), "s_when": s(61), "s_sub": s(62), "s_stage": s(63), "s_req": s(64), "s_provider": s(65)},
        table="pathways_treatmentengagement")

    step("referrals", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   %(as_of_ts)s::timestamptz - make_interval(secs => pg_temp.rnd(g, %(s_when)s) * %(days)s * 86400.0)
                       AS referred_at,
                   (%(statuses)s::text[])[1 + pg_temp.pick(g, %(s_status)s, %(n_statuses)s)] AS status
            FROM generate_series(1, %(rows)s) AS g
        ), dated AS (
            SELECT *, (referred_at + make_interval(hours => 2 + pg_temp.pick(g, %(s_contact)s, 400)))::date
                       AS started
            FROM src
        )
        INSERT INTO pathways_referral (urgency, reason, status, referred_at, first_contact_at, decided_on,
                                       started_on, ended_on, outcome, updated_at, version, action_id, offender_id,
                                       referred_by_id, referring_agency_id, service_id)
        SELECT CASE WHEN pg_temp.rnd(g, %(s_urgent)s) < 0.1 THEN 'emergency' ELSE 'routine' END, '', status,
            referred_at,
            CASE WHEN status <> 'referred'
                 THEN referred_at + make_interval(hours => 2 + pg_temp.pick(g, %(s_contact)s, 400)) END,
            CASE WHEN status <> 'referred' THEN started END,
            CASE WHEN status IN ('started', 'completed') THEN started END,
            CASE WHEN status IN ('completed', 'withdrawn') THEN started + pg_temp.pick(g, %(s_end)s, 180) END,
            '', referred_at, 1, NULL, src.offender_id, o.lead_offender_manager_id, o.lead_agency_id,
            (%(services)s::bigint[])[1 + pg_temp.pick(g, %(s_service)s, %(n_services)s)]
        FROM dated src JOIN cases_offender o ON o.id = src.offender_id ORDER BY referred_at, g
    """, {**common, "rows": plan.counts["referrals"], "statuses": REFERRAL_STATUSES,
          "n_statuses": len(REFERRAL_STATUSES), "services": services, "n_services": len(services),
          "s_who": s(70), "s_when": s(71), "s_status": s(72), "s_contact": s(73), "s_urgent": s(74),
          "s_end": s(75), "s_service": s(76)}, table="pathways_referral")
