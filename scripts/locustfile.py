"""Load test: offender managers working through the day (`make loadtest`).

Each simulated user takes one of the signed-in, two-factor-verified sessions that
`scripts/bench.py sessions` writes (SESSIONS_FILE), so no one types a password or a
security code during the test. The mix follows a working day: mostly the case list
and case pages, some filtering and searching, the action list and the dashboard.

Between pages each user reads for LOADTEST_WAIT seconds ("3,10" by default: a person
reading a case page or a list). LOADTEST_WAIT=0.5,2 is a stress run that finds the
throughput the machine can sustain.
"""

import json
import os
import random
from itertools import count

from locust import HttpUser, between, task

WAIT_SECONDS = tuple(float(part) for part in os.environ.get("LOADTEST_WAIT", "3,10").split(","))
SESSIONS = json.loads(open(os.environ.get("SESSIONS_FILE", "test-artifacts/sessions.json")).read())  # noqa: SIM115
_next = count()


class OffenderManager(HttpUser):
    wait_time = between(*WAIT_SECONDS)

    def on_start(self):
        sessions = SESSIONS["sessions"]
        self.me = sessions[next(_next) % len(sessions)]
        self.client.cookies.set(SESSIONS["cookie_name"], self.me["cookie"])
        self.rng = random.Random(self.me["username"])  # noqa: S311 - a repeatable mix, not a secret

    def get(self, url, name):
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")

    @task(10)
    def case_list(self):
        self.get("/cases/", "case list")

    @task(4)
    def case_list_filtered(self):
        query = self.rng.choice(["cohort=iom", "rag_status=red", "mine=on", "cohort=mappa&rag_status=amber",
                                 "sort=-updated", "page=3"])
        self.get(f"/cases/?{query}", "case list, filtered")

    @task(3)
    def search(self):
        if self.rng.random() < 0.5 and self.me["pncs"]:
            self.get(f"/cases/?q={self.rng.choice(self.me['pncs'])}", "search by PNC")
        elif self.me["surnames"]:
            self.get(f"/cases/?q={self.rng.choice(self.me['surnames'])}", "search by name")

    @task(10)
    def case_page(self):
        if self.me["people"]:
            self.get(f"/cases/{self.rng.choice(self.me['people'])}/", "case page")

    @task(3)
    def my_actions(self):
        self.get("/pathways/my-actions/", "my actions")

    @task(1)
    def dashboard(self):
        self.get("/dashboard/", "dashboard")
