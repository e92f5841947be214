"""`make demo` runs on embedded SQLite with no servers: migrate, the demo seed and a roll-up must work there.

The rest of the suite runs on PostgreSQL, so this runs manage.py in a child process with no
DATABASE_URL or REDIS_URL, against a database file in a temporary folder.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
from alerts.models import Alert
from cases.models import Offender, User
from dashboard.models import RollupRun, RollupValue
run = RollupRun.objects.latest("pk")
assert run.status == RollupRun.Status.SUCCEEDED and run.rows_written, (run.status, run.step)
# Raised through the services on commit, as in service: something to see on signing in.
assert Alert.objects.filter(recipient__username="om.police").exists()
assert Alert.objects.filter(recipient__username="om.treatment", kind="referral_received").exists()
# Without PostgreSQL's triggers, a change still keeps the values before it (history.fallback).
from history.changes import describe_changes
from history.models import PersonChange
person = Offender.objects.order_by("pk").first()
person.address = "Flat 2, 9 Quay Street"
person.save()
change = PersonChange.objects.filter(pgh_obj=person).latest("pgh_id")
assert describe_changes(PersonChange, [change.pk])[change.pk].lines[-1].endswith("to “Flat 2, 9 Quay Street”")
print(" ".join(User.objects.values_list("username", flat=True)))
print(Offender.objects.count(), RollupValue.objects.count())
"""

# The demo dashboard must be believable: every headline with data reads something, no trend is
# worked out from a provisional quarter, and nothing has happened after today.
HEADLINES = """
from django.utils import timezone
from cases.models import Offence
from dashboard.figures import default_quarter, load_figures
from dashboard.measures import all_measures
from dashboard.models import Dimension
from panels.models import CheckpointContract
from pathways.models import Action
problems = []
today = timezone.localdate()
selected = default_quarter()
for figures in load_figures(all_measures(), selected, Dimension.ALL, ""):
    name = figures.measure.name
    if any(numerator or denominator for numerator, denominator, *_ in figures.raw.values()):
        if figures.headline.text in {"0", "0.0%", "0.00"}:
            problems.append(f"{name} reads {figures.headline.text}")
    else:
        problems.append(f"{name} has no data")
    if figures.change and (figures.is_provisional(selected) or figures.is_provisional(selected.previous())):
        problems.append(f"{name} compares a provisional quarter")
    final = figures.latest_final
    if figures.is_provisional(final) or figures.is_provisional(final.previous()):
        problems.append(f"{name} names a provisional quarter as final")
if Offence.objects.filter(committed_on__gt=today).exists() or Offence.objects.filter(outcome_on__gt=today).exists():
    problems.append("offences after today")
if Action.objects.filter(raised_on__gt=today).exists() or CheckpointContract.objects.filter(
        outcome_on__gt=today).exists():
    problems.append("actions or Checkpoint outcomes after today")
# A panel's next agenda is not every review the demo's history left behind (it once listed 108 people). The IOM
# panel's is still long, about 50, because most of its cohort has an overdue action.
from django.db import transaction
from panels import services as panel_services
from panels.models import Meeting
for meeting in Meeting.objects.filter(status=Meeting.Status.SCHEDULED).select_related("panel__chair"):
    with transaction.atomic():
        listed = len(panel_services.generate_agenda(meeting.panel.chair, meeting))
        transaction.set_rollback(True)
    if listed > 60:
        problems.append(f"the next agenda of {meeting.panel.name} lists {listed} people")
# The README's example of a PNC number typed short finds its person in the demo.
from cases.models import Offender
if not Offender.objects.filter(pnc_number="2017/0000012A").exists():
    problems.append("nobody has the README's example PNC number 2017/0000012A")
print("PROBLEMS", problems)
"""


def manage_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(LOCAL_DEVELOPMENT="1", DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    return env


def manage(tmp_path, *args):
    return subprocess.run(  # noqa: S603 - manage.py with the test's own arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=manage_environment(tmp_path), capture_output=True,
        text=True, timeout=600, check=False,
    )


def test_the_demo_migrates_seeds_and_rolls_up_on_sqlite(tmp_path):
    outputs = {}
    for args in (["migrate", "--verbosity", "0"], ["seed_demo"], ["shell", "-c", CHECK]):
        done = manage(tmp_path, *args)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        outputs[args[0]] = done.stdout
    *_, usernames, counts = outputs["shell"].strip().splitlines()
    people, figures = map(int, counts.split())
    # The evaluation's invented comparison pool comes on top of the demo's case load.
    assert people >= 300 and figures > 0

    headlines = manage(tmp_path, "shell", "-c", HEADLINES)
    assert headlines.returncode == 0, headlines.stderr
    assert headlines.stdout.strip().splitlines()[-1] == "PROBLEMS []", headlines.stdout

    # The command seed_demo prints for a security code works as printed, from anywhere.
    command = outputs["seed_demo"].strip().splitlines()[-1].strip()
    assert "demo_code om.police" in command
    bare = {k: v for k, v in manage_environment(tmp_path).items() if k not in {"DATABASE_URL", "LOCAL_DEVELOPMENT"}}
    code = subprocess.run(  # noqa: S602 - the command the demo tells a newcomer to paste into a shell
        command, shell=True, cwd=tmp_path, env=bare,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert re.fullmatch(r"\d{6}", code.stdout.strip()), code.stdout + code.stderr

    # The README names every demo login.
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in usernames.split() if f"`{name}`" not in readme]
    assert not missing, f"README does not list the demo logins {missing}"
