"""The case record at scale: agencies, staff, people, cohorts, RAG history, appointments, offences, access log."""

import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection

from cases.models import Agency, Area, Cohort, Offender, Role, SharingAgreement, User

from . import HISTORY_DAYS, weighted_pool

SYNTHETIC_PASSWORD = "synthetic-partnership-2026"  # noqa: S105 - invented accounts on generated data only

AREAS = [
    ("Northtown", "northtown", "NT"), ("Southbridge", "southbridge", "SB"), ("Eastfield", "eastfield", "EF"),
    ("Westmoor", "westmoor", "WM"), ("Kingsport", "kingsport", "KP"), ("Riverside", "riverside", "RS"),
    ("Highcliffe", "highcliffe", "HC"), ("Ashby Vale", "ashby-vale", "AV"),
]

# (name, kind, area code or None, cohorts the sharing agreement opens, share of the staff)
AGENCIES = [
    ("Northshire Police", Agency.Kind.POLICE, None,
     [Cohort.IOM, Cohort.MAPPA, Cohort.SGV, Cohort.DIP, Cohort.CHECKPOINT, Cohort.CHECKPOINT_PLUS], 150),
    ("Probation Service Northshire", Agency.Kind.PROBATION, None,
     [Cohort.IOM, Cohort.MAPPA, Cohort.WOMENS_JUSTICE, Cohort.CHECKPOINT], 150),
    ("HMP Northshire", Agency.Kind.PRISON, None, [Cohort.MAPPA], 20),
    ("HMP Kingsport", Agency.Kind.PRISON, "kingsport", [Cohort.MAPPA], 20),
    ("HMP Highcliffe (women)", Agency.Kind.PRISON, "highcliffe", [Cohort.MAPPA, Cohort.WOMENS_JUSTICE], 20),
    *[
        (f"{name} Council", Agency.Kind.LOCAL_AUTHORITY, code,
         [Cohort.IOM, Cohort.YOUTH] if index < 4 else [Cohort.YOUTH], 15)
        for index, (name, code, _) in enumerate(AREAS)
    ],
    ("Northshire Recovery Service", Agency.Kind.TREATMENT, None, [Cohort.DIP], 15),
    ("Kingsport Drug and Alcohol Service", Agency.Kind.TREATMENT, "kingsport", [Cohort.DIP], 10),
    ("Riverside Recovery Hub", Agency.Kind.TREATMENT, "riverside", [Cohort.DIP], 8),
    ("Alcohol Change Northshire", Agency.Kind.TREATMENT, None, [Cohort.DIP], 7),
    ("Jobcentre Plus Northtown", Agency.Kind.DWP, "northtown", [], 5),
    ("Jobcentre Plus Kingsport", Agency.Kind.DWP, "kingsport", [], 5),
    ("Northshire NHS Liaison and Diversion", Agency.Kind.HEALTH, None, [Cohort.CHECKPOINT_PLUS], 6),
    ("Northshire Mental Health Trust", Agency.Kind.HEALTH, None, [], 4),
    ("Office of the Northshire PCC", Agency.Kind.OPCC, None, [], 10),
    ("Northshire Women's Centre", Agency.Kind.VOLUNTARY, None, [Cohort.WOMENS_JUSTICE], 6),
    ("Citizens Advice Northshire", Agency.Kind.VOLUNTARY, None, [], 5),
    ("Second Chance Mentoring", Agency.Kind.VOLUNTARY, None, [Cohort.CHECKPOINT], 5),
]

MALE_NAMES = [
    "Aaron", "Abdul", "Adam", "Ali", "Ben", "Bradley", "Callum", "Carl", "Connor", "Craig", "Daniel", "Darren",
    "Dean", "Declan", "Dylan", "Gary", "Hassan", "Ibrahim", "Jack", "Jamal", "James", "Jamie", "Jason", "Jordan",
    "Josh", "Kieran", "Kyle", "Lee", "Lewis", "Liam", "Luke", "Marcus", "Mark", "Michael", "Mohammed", "Nathan",
    "Neil", "Paul", "Reece", "Ricky", "Ryan", "Scott", "Sean", "Shane", "Stephen", "Tariq", "Thomas", "Tyler",
    "Wayne", "Zak",
]
FEMALE_NAMES = [
    "Aisha", "Amy", "Chantelle", "Charlotte", "Chloe", "Danielle", "Ellie", "Emma", "Gemma", "Grace", "Hannah",
    "Jade", "Jodie", "Kayleigh", "Kirsty", "Laura", "Leanne", "Lisa", "Natalie", "Nicola", "Priya", "Rebecca",
    "Sasha", "Shannon", "Stacey", "Tanya", "Vicky", "Zainab", "Zoe",
]
SURNAMES = [
    "Ahmed", "Ali", "Atkinson", "Bailey", "Baker", "Begum", "Bell", "Bennett", "Brown", "Campbell", "Carter",
    "Clarke", "Collins", "Cooper", "Cox", "Davies", "Edwards", "Evans", "Fletcher", "Foster", "Green", "Hall",
    "Harris", "Hill", "Hughes", "Hussain", "Jackson", "James", "Johnson", "Jones", "Kaur", "Kelly", "Khan", "King",
    "Lee", "Lewis", "Martin", "Mason", "Miller", "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Nowak",
    "O'Brien", "Owen", "Parker", "Patel", "Phillips", "Price", "Reid", "Richards", "Roberts", "Robinson", "Rose",
    "Scott", "Shaw", "Singh", "Smith", "Stewart", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Ward",
    "Watson", "White", "Williams", "Wilson", "Wood", "Wright", "Young",
] + [
    prefix + suffix
    for prefix in ["Ash", "Black", "Brad", "Cran", "Fair", "Green", "Hart", "Kings", "Lang", "Mor", "North", "Red",
                   "Stan", "West", "Whit", "Wood"]
    for suffix in ["ley", "ton", "field", "wood", "well", "ford", "by", "ham", "worth", "stone", "bridge", "croft"]
]
STAFF_FIRST = ["Sam", "Alex", "Jo", "Chris", "Pat", "Kim", "Robin", "Jess", "Nikhil", "Femi", "Aoife", "Marek"]

COHORT_ORDER = [c.value for c in Cohort]
COHORT_POOL = weighted_pool([
    (COHORT_ORDER.index(Cohort.IOM), 45), (COHORT_ORDER.index(Cohort.MAPPA), 12),
    (COHORT_ORDER.index(Cohort.CHECKPOINT), 10), (COHORT_ORDER.index(Cohort.CHECKPOINT_PLUS), 3),
    (COHORT_ORDER.index(Cohort.DIP), 12), (COHORT_ORDER.index(Cohort.SGV), 8),
    (COHORT_ORDER.index(Cohort.WOMENS_JUSTICE), 5), (COHORT_ORDER.index(Cohort.YOUTH), 5),
])
RAG_STATUSES = ["red", "amber", "green"]
RAG_REASONS = [
    "Arrested on suspicion of burglary", "Missed three appointments", "Intelligence of drug supply",
    "Engaging with treatment but housing unstable", "Partial engagement since release",
    "Settled accommodation and attending every appointment", "Started work and engaging well",
]
NOTE_TEXTS = [
    "Home visit completed; discussed housing and benefits.",
    "Attended supervision; reports staying with family.",
    "Did not answer the door at the planned home visit; card left.",
    "Referred to the rent deposit scheme.",
    "Intelligence report: seen with known associates.",
]
OFFENCE_GROUPS = weighted_pool([
    ("theft", 25), ("violence", 18), ("burglary", 9), ("drugs", 10), ("criminal_damage", 8), ("public_order", 8),
    ("summary_other", 6), ("summary_motoring", 4), ("vehicle", 3), ("robbery", 3), ("weapons", 3), ("fraud", 2),
    ("sexual", 1),
])
OFFENCE_OUTCOMES = weighted_pool([
    ("conviction", 45), ("caution", 14), ("out_of_court", 10), ("nfa", 22), ("acquitted", 5), ("pending", 2),
    ("charged", 2),
])
APPOINTMENT_KINDS = ["supervision", "supervision", "supervision", "home_visit", "home_visit", "treatment", "ete",
                     "housing", "other"]
PAST_APPOINTMENT_OUTCOMES = weighted_pool([
    ("attended_complied", 70), ("failed_to_comply", 5), ("unacceptable_absence", 13), ("acceptable_absence", 5),
    ("rescheduled", 4), ("cancelled", 3),
])
ABSENCE_REASONS = ["medical", "medical", "court", "employment", "childcare", "religious", "professional_judgement"]
# (requirement, chance in a thousand) for community orders, suspended sentences and licences.
REQUIREMENT_CHANCES = [("drr", 200), ("atr", 100), ("mhtr", 40), ("rar", 450), ("unpaid_work", 300), ("curfew", 80)]
ENFORCEMENT_KINDS = weighted_pool([
    ("warning_letter", 50), ("breach", 15), ("recall", 10), ("extra_conditions", 10), ("curfew", 8),
    ("civil_order", 5), ("other", 2),
])
EXIT_REASONS = ["completed", "completed", "no_longer_eligible", "deselected", "custody", "moved_away", "other"]
ACCESS_ACTIONS = weighted_pool([
    ("view", 70), ("search", 10), ("change", 10), ("create", 5), ("export", 3), ("share", 1), ("import", 1),
])


def setup_partnership(plan):
    """Areas, agencies, sharing agreements and staff, through the ORM: a few hundred rows."""
    areas = {}
    for name, code, _ in AREAS:
        areas[code], _ = Area.objects.get_or_create(code=code, defaults={"name": name})
    agencies = []
    for name, kind, area_code, cohorts, _ in AGENCIES:
        agency, _ = Agency.objects.get_or_create(
            name=name, defaults={"kind": kind, "area": areas.get(area_code)}
        )
        for cohort in cohorts:
            SharingAgreement.objects.get_or_create(agency=agency, cohort=cohort)
        agencies.append(agency)

    total_share = sum(spec[4] for spec in AGENCIES)
    password = make_password(SYNTHETIC_PASSWORD)
    users = []
    for index, (agency, spec) in enumerate(zip(agencies, AGENCIES, strict=True)):
        headcount = max(5, round(plan.counts["staff"] * spec[4] / total_share))
        slug = agency.name.split()[0].lower().replace("'", "") + str(index)
        for n in range(headcount):
            if agency.kind == Agency.Kind.OPCC:
                role = Role.AGENCY_ADMIN if n == 0 else Role.ANALYST
            elif n == 0:
                role = Role.AGENCY_ADMIN
            elif n in (1, 2):
                role = Role.PANEL_CHAIR
            elif n % 20 == 19:
                role = Role.READ_ONLY
            else:
                role = Role.OFFENDER_MANAGER
            users.append(User(
                username=f"{slug}.{n:03d}", password=password, agency=agency, role=role,
                first_name=STAFF_FIRST[(index + n) % len(STAFF_FIRST)], last_name=SURNAMES[(index * 7 + n) % 60],
                email=f"{slug}.{n:03d}@example.org", job_title=Role(role).label,
            ))
    existing = set(User.objects.filter(username__in=[u.username for u in users]).values_list("username", flat=True))
    User.objects.bulk_create([u for u in users if u.username not in existing])
    staff = list(User.objects.filter(agency__in=agencies).order_by("pk"))
    # bulk_create skips User.save(), which joins each member of staff to their agency's group.
    Through = User.groups.through
    Through.objects.bulk_create(
        [Through(user_id=u.pk, group_id=u.agency.group_id) for u in staff], ignore_conflicts=True
    )
    return {"areas": list(areas.values()), "agencies": agencies, "staff": staff}


def _ids(objs):
    return [o.pk for o in objs]


def generate(plan, context, step):
    """Insert the case record tables. `step(label, sql, params)` runs and times one statement."""
    agencies = context["agencies"]
    by_kind = {}
    for agency in agencies:
        by_kind.setdefault(agency.kind, []).append(agency.pk)
    police, probation = by_kind[Agency.Kind.POLICE][0], by_kind[Agency.Kind.PROBATION][0]
    lead_pool = [police] * 10 + [probation] * 8 + by_kind[Agency.Kind.PRISON][:2]
    staff = context["staff"]
    staff_ids = _ids(staff)
    share_agencies = [a.pk for a in agencies if a.kind in (
        Agency.Kind.LOCAL_AUTHORITY, Agency.Kind.TREATMENT, Agency.Kind.DWP, Agency.Kind.VOLUNTARY)]

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_offender")
        first_id = cursor.fetchone()[0] + 1
    n_people = plan.counts["people"]
    context["people_ids"] = (first_id, first_id + n_people - 1)
    as_of = plan.as_of
    as_of_ts = datetime.datetime.combine(as_of, datetime.time(17, 0), tzinfo=datetime.UTC)
    common = {
        "n": n_people, "base": first_id - 1, "as_of": as_of, "as_of_ts": as_of_ts, "days": HISTORY_DAYS,
        "staff": staff_ids, "n_staff": len(staff_ids),
    }

    context["common"] = common
    context["by_kind"] = by_kind

    def s(column):
        return plan.salt(column)

    step("people", """
        WITH oms AS (
            SELECT agency_id, array_agg(id ORDER BY id) AS ids FROM cases_user
            WHERE role = 'offender_manager' AND id = ANY(%(staff)s) GROUP BY agency_id
        ), src AS (
            SELECT g, %(base)s + g AS id,
                   (%(lead_pool)s::bigint[])[1 + pg_temp.pick(g, %(s_lead)s, %(n_lead)s)] AS lead,
                   pg_temp.rnd(g, %(s_gender)s) AS rg
            FROM generate_series(1, %(n)s) AS g
        )
        INSERT INTO cases_offender (
            id, first_names, last_name, date_of_birth, gender, ethnicity, address, postcode, pnc_number, crn,
            prison_number, veteran, care_leaver, disability, womens_cohort, rag_status, review_date, created_at,
            updated_at, version, area_id, lead_agency_id, lead_offender_manager_id)
        SELECT src.id,
            CASE WHEN rg < 0.82 THEN (%(male)s::text[])[1 + pg_temp.pick(g, %(s_first)s, %(n_male)s)]
                 ELSE (%(female)s::text[])[1 + pg_temp.pick(g, %(s_first)s, %(n_female)s)] END,
            (%(surnames)s::text[])[1 + pg_temp.pick(g, %(s_last)s, %(n_surnames)s)],
            %(as_of)s::date - (6570 + pg_temp.pick(g, %(s_dob)s, 16000)),
            CASE WHEN rg < 0.80 THEN 'male' WHEN rg < 0.98 THEN 'female' WHEN rg < 0.995 THEN 'other'
                 ELSE 'not_known' END,
            (ARRAY['white','white','white','white','white','white','black','asian','asian','mixed','other',
                   'not_stated'])[1 + pg_temp.pick(g, %(s_eth)s, 12)],
            (1 + pg_temp.pick(g, %(s_addr)s, 200))::text || ' '
                || (ARRAY['Mill','Station','Church','Park','High','Victoria','Queen','Albert'])[
                    1 + pg_temp.pick(g, %(s_addr)s + 1, 8)] || ' Road',
            (%(postcodes)s::text[])[1 + mod(src.id, %(n_areas)s)] || (1 + pg_temp.pick(g, %(s_pc)s, 9))::text
                || ' ' || (1 + pg_temp.pick(g, %(s_pc)s + 1, 9))::text || 'AB',
            (ARRAY['2008','2011','2014','2017','2020','2023'])[1 + pg_temp.pick(g, %(s_pnc)s, 6)] || '/'
                || lpad(src.id::text, 7, '0') || chr(65 + pg_temp.pick(g, %(s_pnc)s + 1, 26)),
            CASE WHEN pg_temp.rnd(g, %(s_crn)s) < 0.8
                 THEN chr(65 + pg_temp.pick(g, %(s_crn)s + 1, 26)) || lpad(mod(src.id, 1000000)::text, 6, '0')
                 ELSE '' END,
            CASE WHEN pg_temp.rnd(g, %(s_prison)s) < 0.4
                 THEN 'A' || lpad(mod(src.id, 10000)::text, 4, '0') || chr(65 + mod(src.id / 10000, 26))
                      || chr(65 + mod(src.id / 260000, 26))
                 ELSE '' END,
            pg_temp.rnd(g, %(s_flags)s) < 0.05, pg_temp.rnd(g, %(s_flags)s + 1) < 0.15,
            pg_temp.rnd(g, %(s_flags)s + 2) < 0.10, rg >= 0.80 AND rg < 0.98 AND pg_temp.rnd(g, %(s_flags)s + 3) < 0.5,
            -- The status the RAG history below ends on (same hashes), so no second pass over the people.
            CASE WHEN pg_temp.rnd(g, %(s_rag_none)s) < 0.03 THEN ''
                 ELSE (%(statuses)s::text[])[1 + mod(pg_temp.pick(g * 8 + 1, %(s_rag_step)s, 3) + (
                     SELECT coalesce(sum(1 + pg_temp.pick(g * 8 + j, %(s_rag_step)s, 2)), 0)::integer
                     FROM generate_series(2, 1 + pg_temp.pick(g, %(s_rag_k)s, 7)) AS j), 3)] END,
            CASE WHEN pg_temp.rnd(g, %(s_review)s) < 0.8
                 THEN %(as_of)s::date - 30 + pg_temp.pick(g, %(s_review)s + 1, 400) END,
            %(as_of_ts)s::timestamptz - make_interval(days => pg_temp.pick(g, %(s_created)s, %(days)s)),
            %(as_of_ts)s::timestamptz - make_interval(days => pg_temp.pick(g, %(s_created)s + 1, 60)),
            1,
            (%(areas)s::bigint[])[1 + mod(src.id, %(n_areas)s)],
            src.lead,
            CASE WHEN pg_temp.rnd(g, %(s_om)s) < 0.92
                 THEN oms.ids[1 + pg_temp.pick(g, %(s_om)s + 1, cardinality(oms.ids))] END
        FROM src LEFT JOIN oms ON oms.agency_id = src.lead
        ORDER BY g
    """, {
        **common, "lead_pool": lead_pool, "n_lead": len(lead_pool),
        "male": MALE_NAMES, "n_male": len(MALE_NAMES), "female": FEMALE_NAMES, "n_female": len(FEMALE_NAMES),
        "surnames": SURNAMES, "n_surnames": len(SURNAMES),
        "postcodes": [code for _, _, code in AREAS], "areas": _ids(context["areas"]), "n_areas": len(AREAS),
        "s_lead": s(1), "s_gender": s(2), "s_first": s(3), "s_last": s(4), "s_dob": s(5), "s_eth": s(6),
        "s_addr": s(7), "s_pc": s(9), "s_pnc": s(11), "s_crn": s(13), "s_prison": s(15), "s_flags": s(16),
        "s_review": s(20), "s_created": s(22), "s_om": s(24),
        "statuses": RAG_STATUSES, "s_rag_none": s(40), "s_rag_k": s(41), "s_rag_step": s(42),
    }, table="cases_offender")
    step("reset offender id sequence", """
        SELECT setval(pg_get_serial_sequence('cases_offender', 'id'),
                      greatest((SELECT max(id) FROM cases_offender),
                               (SELECT last_value FROM cases_offender_id_seq)))
    """, {})

    # Each person is on one cohort (a third on two different ones), some have an earlier ended membership,
    # and a few have left every cohort and are seen only by their lead agency.
    step("cohort memberships", """
        WITH picks AS (
            SELECT %(base)s + g AS offender_id, g,
                   (%(pool)s::int[])[1 + pg_temp.pick(g, %(s_c1)s, %(n_pool)s)] AS c1,
                   (%(pool)s::int[])[1 + pg_temp.pick(g, %(s_c2)s, %(n_pool)s)] AS c2raw,
                   pg_temp.rnd(g, %(s_shape)s) AS shape
            FROM generate_series(1, %(n)s) AS g
        ), rows AS (
            SELECT offender_id, g, 1 AS slot, c1 AS ci, shape < 0.06 AS ended FROM picks
            UNION ALL
            SELECT offender_id, g, 2, CASE WHEN c2raw = c1 THEN mod(c1 + 1, 8) ELSE c2raw END, false
            FROM picks WHERE shape > 0.68
            UNION ALL
            SELECT offender_id, g, 3, c2raw, true FROM picks WHERE shape > 0.40 AND shape < 0.70
        ), dated AS (
            SELECT offender_id, g, slot, (%(cohorts)s::text[])[1 + ci] AS cohort, ended,
                   CASE WHEN ended THEN %(as_of)s::date - %(days)s + pg_temp.pick(g * 4 + slot, %(s_start)s, 900)
                        ELSE %(as_of)s::date - 20 - pg_temp.pick(g * 4 + slot, %(s_start)s, 1500) END AS started_on
            FROM rows
        )
        INSERT INTO cases_cohortmembership (
            cohort, iom_category, mappa_category, mappa_level, started_on, ended_on, exit_reason, created_at,
            created_by_id, offender_id)
        SELECT cohort,
            CASE WHEN cohort = 'iom' THEN (ARRAY['fixed','fixed','flex','free'])[
                1 + pg_temp.pick(g * 4 + slot, %(s_cat)s, 4)] ELSE '' END,
            CASE WHEN cohort = 'mappa' THEN (ARRAY[1,2,2,3])[1 + pg_temp.pick(g * 4 + slot, %(s_cat)s + 1, 4)] END,
            CASE WHEN cohort = 'mappa' THEN (ARRAY[1,1,2,3])[1 + pg_temp.pick(g * 4 + slot, %(s_cat)s + 2, 4)] END,
            started_on,
            CASE WHEN ended THEN started_on + 30 + pg_temp.pick(g * 4 + slot, %(s_end)s, 600) END,
            CASE WHEN ended THEN (%(exits)s::text[])[1 + pg_temp.pick(g * 4 + slot, %(s_end)s + 1, %(n_exits)s)]
                 ELSE '' END,
            started_on::timestamptz + interval '10 hours',
            (%(staff)s::bigint[])[1 + pg_temp.pick(g * 4 + slot, %(s_by)s, %(n_staff)s)],
            offender_id
        FROM dated ORDER BY offender_id, slot
    """, {
        **common, "pool": COHORT_POOL, "n_pool": len(COHORT_POOL), "cohorts": COHORT_ORDER,
        "exits": EXIT_REASONS, "n_exits": len(EXIT_REASONS),
        "s_c1": s(30), "s_c2": s(31), "s_shape": s(32), "s_start": s(33), "s_cat": s(34), "s_end": s(37),
        "s_by": s(39),
    }, table="cases_cohortmembership")

    # Five years of RAG history: each change differs from the one before (the database checks it).
    step("RAG history", """
        WITH people AS (
            SELECT o.id, o.id - %(base)s AS g, o.lead_agency_id, o.lead_offender_manager_id,
                   CASE WHEN pg_temp.rnd(o.id - %(base)s, %(s_none)s) < 0.03 THEN 0
                        ELSE 1 + pg_temp.pick(o.id - %(base)s, %(s_k)s, 7) END AS k
            FROM cases_offender o WHERE o.id > %(base)s
        ), steps AS (
            SELECT id, g, lead_agency_id, lead_offender_manager_id, k, j,
                   CASE WHEN j = 1 THEN pg_temp.pick(g * 8 + j, %(s_step)s, 3)
                        ELSE 1 + pg_temp.pick(g * 8 + j, %(s_step)s, 2) END AS delta
            FROM people CROSS JOIN LATERAL generate_series(1, people.k) AS j
        ), states AS (
            SELECT *, mod(sum(delta) OVER (PARTITION BY id ORDER BY j), 3) AS state FROM steps
        ), chained AS (
            SELECT *, lag(state) OVER (PARTITION BY id ORDER BY j) AS previous FROM states
        )
        INSERT INTO cases_ragchange (
            from_status, to_status, reason, changed_at, source, source_reference, agency_id, changed_by_id,
            offender_id)
        SELECT coalesce((%(statuses)s::text[])[1 + previous], ''), (%(statuses)s::text[])[1 + state],
            (%(reasons)s::text[])[1 + (CASE state WHEN 0 THEN pg_temp.pick(g * 8 + j, %(s_reason)s, 3)
                                                  WHEN 1 THEN 3 + pg_temp.pick(g * 8 + j, %(s_reason)s, 2)
                                                  ELSE 5 + pg_temp.pick(g * 8 + j, %(s_reason)s, 2) END)],
            %(as_of_ts)s::timestamptz - make_interval(days => %(days)s)
                + make_interval(secs => ((j - 1) + 0.9 * pg_temp.rnd(g * 8 + j, %(s_when)s)) / k * %(days)s * 86400.0),
            CASE WHEN pg_temp.rnd(g * 8 + j, %(s_src)s) < 0.3 THEN 'panel' ELSE 'case_review' END,
            CASE WHEN pg_temp.rnd(g * 8 + j, %(s_src)s) < 0.3 THEN 'IOM main panel' ELSE '' END,
            lead_agency_id, lead_offender_manager_id, id
        FROM chained ORDER BY id, j
    """, {
        **common, "statuses": RAG_STATUSES, "reasons": RAG_REASONS,
        "s_none": s(40), "s_k": s(41), "s_step": s(42), "s_reason": s(43), "s_when": s(44), "s_src": s(45),
    }, table="cases_ragchange")

    step("supervision", """
        WITH rows AS (
            SELECT %(base)s + g AS offender_id, g, slot FROM generate_series(1, %(n)s) AS g
            CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.rnd(g, %(s_two)s) < 0.5 THEN 2 ELSE 1 END) slot
        ), shaped AS (
            SELECT offender_id, g, slot,
                   (ARRAY['licence','licence','community_order','community_order','suspended_sentence',
                          'post_sentence','custody','out_of_court'])[1 + pg_temp.pick(g * 2 + slot, %(s_kind)s, 8)]
                       AS kind,
                   %(as_of)s::date - pg_temp.pick(g * 2 + slot, %(s_start)s, %(days)s) AS started_on
            FROM rows
        )
        INSERT INTO cases_supervision (
            kind, started_on, ends_on, released_on, release_type, other_requirements, offender_id,
            responsible_agency_id)
        SELECT kind, started_on, started_on + 180 + pg_temp.pick(g * 2 + slot, %(s_len)s, 900),
            released_on,
            CASE WHEN released_on IS NULL THEN ''
                 WHEN pg_temp.rnd(g * 2 + slot, %(s_rel)s) < 0.85 THEN 'planned' ELSE 'unplanned' END,
            '', offender_id, %(probation)s
        FROM (SELECT *, CASE WHEN kind = 'licence' THEN started_on + pg_temp.pick(g * 2 + slot, %(s_len)s + 1, 30) END
                            AS released_on
              FROM shaped) released
        ORDER BY offender_id, slot
    """, {**common, "probation": probation, "s_two": s(50), "s_kind": s(51), "s_start": s(52), "s_len": s(53),
          "s_rel": s(56)}, table="cases_supervision")

    step("order requirements", """
        INSERT INTO cases_requirement (kind, supervision_id)
        SELECT r.kind, sv.id
        FROM cases_supervision sv
        JOIN cases_offender o ON o.id = sv.offender_id AND o.id > %(base)s
        CROSS JOIN unnest(%(kinds)s::text[], %(chances)s::int[]) WITH ORDINALITY AS r(kind, chance, n)
        WHERE sv.kind IN ('licence', 'community_order', 'suspended_sentence')
          AND pg_temp.pick(sv.id * 8 + r.n, %(s_req)s, 1000) < r.chance
        ORDER BY sv.id, r.n
    """, {**common, "kinds": [kind for kind, _ in REQUIREMENT_CHANCES],
          "chances": [chance for _, chance in REQUIREMENT_CHANCES], "s_req": s(55)}, table="cases_requirement")

    step("appointments", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   date_trunc('day', %(as_of_ts)s::timestamptz - make_interval(days => %(days)s)
                       + make_interval(days => pg_temp.pick(g, %(s_when)s, %(days)s + 21)))
                       + make_interval(hours => 9 + pg_temp.pick(g, %(s_when)s + 1, 8)) AS scheduled_at
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO cases_appointment (kind, scheduled_at, outcome, absence_reason, notes, recorded_at, agency_id,
                                       staff_id, offender_id)
        SELECT kind, scheduled_at, outcome,
            CASE WHEN outcome = 'acceptable_absence'
                 THEN (%(reasons)s::text[])[1 + pg_temp.pick(g, %(s_reason)s, %(n_reasons)s)] ELSE '' END,
            '', least(scheduled_at, %(as_of_ts)s::timestamptz), agency_id, staff_id, offender_id
        FROM (
            SELECT g, (%(kinds)s::text[])[1 + pg_temp.pick(g, %(s_kind)s, %(n_kinds)s)] AS kind, scheduled_at,
                CASE WHEN scheduled_at > %(as_of_ts)s::timestamptz THEN 'scheduled'
                     ELSE (%(outcomes)s::text[])[1 + pg_temp.pick(g, %(s_out)s, %(n_outcomes)s)] END AS outcome,
                o.lead_agency_id AS agency_id, o.lead_offender_manager_id AS staff_id, src.offender_id
            FROM src JOIN cases_offender o ON o.id = src.offender_id
        ) drawn
        ORDER BY scheduled_at, g
    """, {**common, "rows": plan.counts["appointments"], "kinds": APPOINTMENT_KINDS, "n_kinds": len(APPOINTMENT_KINDS),
          "outcomes": PAST_APPOINTMENT_OUTCOMES, "n_outcomes": len(PAST_APPOINTMENT_OUTCOMES),
          "reasons": ABSENCE_REASONS, "n_reasons": len(ABSENCE_REASONS),
          "s_who": s(60), "s_when": s(61), "s_kind": s(63), "s_out": s(64), "s_reason": s(65)},
         table="cases_appointment")

    step("case notes", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO cases_casenote (text, sharing, created_at, agency_id, author_id, offender_id)
        SELECT (%(texts)s::text[])[1 + pg_temp.pick(g, %(s_text)s, %(n_texts)s)],
            CASE WHEN o.lead_agency_id = %(police)s AND pg_temp.rnd(g, %(s_share)s) < 0.3 THEN 'agency'
                 ELSE 'partnership' END,
            %(as_of_ts)s::timestamptz - make_interval(secs => pg_temp.rnd(g, %(s_when)s) * %(days)s * 86400.0),
            o.lead_agency_id, o.lead_offender_manager_id, src.offender_id
        FROM src JOIN cases_offender o ON o.id = src.offender_id ORDER BY g
    """, {**common, "rows": plan.counts["case_notes"], "texts": NOTE_TEXTS, "n_texts": len(NOTE_TEXTS),
          "police": police, "s_who": s(70), "s_text": s(71), "s_share": s(72), "s_when": s(73)},
         table="cases_casenote")

    step("aliases", """
        INSERT INTO cases_alias (name, offender_id)
        SELECT (%(first)s::text[])[1 + pg_temp.pick(o.id, %(s_name)s, %(n_first)s)] || ' ' || o.last_name, o.id
        FROM cases_offender o WHERE o.id > %(base)s AND pg_temp.rnd(o.id, %(s_has)s) < 0.2 ORDER BY o.id
    """, {**common, "first": MALE_NAMES + FEMALE_NAMES, "n_first": len(MALE_NAMES) + len(FEMALE_NAMES),
          "s_name": s(80), "s_has": s(81)})

    step("offences", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   %(as_of)s::date - pg_temp.pick(g, %(s_when)s, %(days)s) AS committed_on,
                   (%(outcomes)s::text[])[1 + pg_temp.pick(g, %(s_out)s, %(n_outcomes)s)] AS drawn
            FROM generate_series(1, %(rows)s) AS g
        ), decided AS (
            SELECT *, CASE WHEN committed_on > %(as_of)s::date - 60 AND pg_temp.rnd(g, %(s_recent)s) < 0.5
                           THEN 'pending' ELSE drawn END AS outcome
            FROM src
        )
        INSERT INTO cases_offence (committed_on, offence_group, drug_related, alcohol_related, description, outcome,
                                   outcome_on, recorded_at, offender_id, recorded_by_agency_id)
        SELECT committed_on, offence_group,
            offence_group = 'drugs' OR pg_temp.rnd(g, %(s_flag)s) < 0.15, pg_temp.rnd(g, %(s_flag)s + 1) < 0.15,
            '', outcome,
            CASE WHEN outcome <> 'pending'
                 THEN least(%(as_of)s::date, committed_on + 1 + pg_temp.pick(g, %(s_lag)s, 240)) END,
            committed_on::timestamptz + interval '1 day', offender_id, %(police)s
        FROM (SELECT *, (%(groups)s::text[])[1 + pg_temp.pick(g, %(s_group)s, %(n_groups)s)] AS offence_group
              FROM decided) grouped
        ORDER BY g
    """, {**common, "rows": plan.counts["offences"], "groups": OFFENCE_GROUPS, "n_groups": len(OFFENCE_GROUPS),
          "outcomes": OFFENCE_OUTCOMES, "n_outcomes": len(OFFENCE_OUTCOMES), "police": police,
          "s_who": s(90), "s_when": s(91), "s_out": s(92), "s_recent": s(93), "s_group": s(94), "s_lag": s(95),
          "s_flag": s(96)},
         table="cases_offence")

    step("enforcement actions", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO cases_enforcementaction (kind, taken_on, details, agency_id, offender_id, recorded_by_id)
        SELECT (%(kinds)s::text[])[1 + pg_temp.pick(g, %(s_kind)s, %(n_kinds)s)],
            %(as_of)s::date - pg_temp.pick(g, %(s_when)s, %(days)s), '', o.lead_agency_id, src.offender_id,
            o.lead_offender_manager_id
        FROM src JOIN cases_offender o ON o.id = src.offender_id ORDER BY g
    """, {**common, "rows": plan.counts["enforcement_actions"], "kinds": ENFORCEMENT_KINDS,
          "n_kinds": len(ENFORCEMENT_KINDS), "s_who": s(100), "s_kind": s(101), "s_when": s(102)},
         table="cases_enforcementaction")

    step("cases shared with agencies", """
        INSERT INTO cases_caseshare (offender_id, agency_id, reason, shared_by_id, shared_by_agency_id, shared_at,
                                     withdrawal_reason)
        SELECT o.id, (%(agencies)s::bigint[])[1 + pg_temp.pick(o.id, %(s_group)s, %(n_groups)s)],
            'Referred for support', o.lead_offender_manager_id, o.lead_agency_id,
            %(as_of_ts)s::timestamptz - make_interval(days => pg_temp.pick(o.id, %(s_when)s, 365)), ''
        FROM cases_offender o WHERE o.id > %(base)s AND pg_temp.rnd(o.id, %(s_has)s) < 0.03 ORDER BY o.id
    """, {**common, "agencies": share_agencies, "n_groups": len(share_agencies), "s_group": s(110),
          "s_has": s(111), "s_when": s(112)}, table="cases_caseshare")

    step("access log", """
        WITH src AS (
            SELECT g, %(base)s + 1 + pg_temp.pick(g, %(s_who)s, %(n)s) AS offender_id,
                   1 + pg_temp.pick(g, %(s_user)s, %(n_staff)s) AS u
            FROM generate_series(1, %(rows)s) AS g
        )
        INSERT INTO cases_accesslogentry (occurred_at, username, action, object_type, object_id, offender_id,
                                          detail, user_id, agency_id)
        SELECT %(as_of_ts)s::timestamptz - make_interval(secs => pg_temp.rnd(g, %(s_when)s) * %(days)s * 86400.0),
            (%(usernames)s::text[])[u], (%(actions)s::text[])[1 + pg_temp.pick(g, %(s_action)s, %(n_actions)s)],
            'cases.offender', offender_id::text, offender_id, '', (%(staff)s::bigint[])[u],
            (%(staff_agencies)s::bigint[])[u]
        FROM src ORDER BY 1, g
    """, {**common, "rows": plan.counts["access_log"], "usernames": [u.username for u in staff],
          "staff_agencies": [u.agency_id for u in staff], "actions": ACCESS_ACTIONS,
          "n_actions": len(ACCESS_ACTIONS), "s_who": s(120), "s_user": s(121), "s_when": s(122),
          "s_action": s(123)}, table="cases_accesslogentry")


def offender_queryset(context):
    first, last = context["people_ids"]
    return Offender.objects.filter(pk__range=(first, last))


def agency_groups(context):
    return Group.objects.filter(agency__in=context["agencies"])
