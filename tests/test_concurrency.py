"""No lost update: two real transactions on PostgreSQL changing the same person at the same time."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections, transaction

from cases import services
from cases.locking import ConcurrentEditError
from cases.models import AccessLogEntry, Offender, RagChange

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]


def in_thread(target, *args):
    """Run `target` in its own thread, with its own database connection; returns (thread, outcome)."""
    outcome = {}

    def run():
        close_old_connections()
        try:
            outcome["result"] = target(*args)
        except Exception as error:  # noqa: BLE001 - the test inspects whatever happened
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def blocked_on_a_lock(timeout=10):
    """Wait until another session is waiting for a row lock held by a transaction still open."""
    import time

    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def hold_open_while(first_change, second_starts):
    """The first change runs in a transaction that stays open until the second has started and is waiting."""
    first_saved, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            result = first_change()
            first_saved.set()
            release.wait(15)
        return result

    first_thread, first_outcome = in_thread(first)
    assert first_saved.wait(15)
    second_thread, second_outcome = in_thread(second_starts)
    waited = blocked_on_a_lock()
    release.set()
    first_thread.join(20)
    second_thread.join(20)
    return first_outcome, second_outcome, waited


def test_two_people_saving_the_same_person_at_once_the_second_is_refused(partnership):
    person = partnership.iom_person
    opened_at_version = person.version

    def save(user, last_name):
        return services.update_offender(
            user, Offender.objects.get(pk=person.pk), expected_version=opened_at_version, last_name=last_name
        )

    first, second, waited = hold_open_while(
        lambda: save(partnership.police_om, "Ashworth-Smith"), lambda: save(partnership.police_admin, "Ashford")
    )
    assert waited, "the second save should have waited for the first transaction"
    assert "error" not in first
    assert isinstance(second.get("error"), ConcurrentEditError)
    assert second["error"].current.last_name == "Ashworth-Smith"
    person.refresh_from_db()
    assert (person.last_name, person.version) == ("Ashworth-Smith", opened_at_version + 1)
    changes = AccessLogEntry.objects.filter(offender_id=person.pk, action="change")
    assert [c.username for c in changes] == [partnership.police_om.username]


def test_simultaneous_saves_without_holding_one_back_still_lose_nothing(partnership):
    person = partnership.iom_person
    start = threading.Barrier(2)

    def save(user, name):
        start.wait(10)
        return services.update_offender(user, Offender.objects.get(pk=person.pk), expected_version=1, last_name=name)

    threads = [in_thread(save, partnership.police_om, "One"), in_thread(save, partnership.police_admin, "Two")]
    for thread, _ in threads:
        thread.join(20)
    outcomes = [outcome for _, outcome in threads]
    winners = [o["result"].last_name for o in outcomes if "result" in o]
    refused = [o["error"] for o in outcomes if "error" in o]
    assert len(winners) == 1 and len(refused) == 1
    assert isinstance(refused[0], ConcurrentEditError)
    person.refresh_from_db()
    assert person.last_name == winners[0] and person.version == 2


def test_two_rag_changes_from_the_same_screen_the_second_is_refused(partnership):
    person = partnership.iom_person
    seen = person.rag_status

    def change(user, to_status):
        return services.record_rag_change(
            user, Offender.objects.get(pk=person.pk), to_status=to_status, reason="Reviewed", expected_status=seen
        )

    first, second, waited = hold_open_while(
        lambda: change(partnership.police_om, "red"), lambda: change(partnership.probation_om, "green")
    )
    assert waited
    assert "error" not in first
    assert isinstance(second.get("error"), ConcurrentEditError)
    person.refresh_from_db()
    assert person.rag_status == "red"
    assert list(RagChange.objects.filter(offender=person).values_list("from_status", "to_status")) == [("", "red")]


def test_two_rag_changes_to_the_same_status_one_is_refused_clearly(partnership):
    person = partnership.iom_person

    def change(user):
        return services.record_rag_change(user, Offender.objects.get(pk=person.pk), to_status="red", reason="Arrest")

    first, second, waited = hold_open_while(
        lambda: change(partnership.police_om), lambda: change(partnership.probation_om)
    )
    assert waited
    assert "error" not in first
    assert isinstance(second.get("error"), ValidationError)
    assert "already Red" in str(second["error"])
    assert RagChange.objects.filter(offender=person).count() == 1


def test_rag_changes_that_both_go_through_keep_a_consistent_history(partnership):
    """Without an expected status the second change is applied after the first, starting from it."""
    person = partnership.iom_person

    def change(user, to_status):
        return services.record_rag_change(user, Offender.objects.get(pk=person.pk), to_status=to_status,
                                          reason="Reviewed")

    first, second, waited = hold_open_while(
        lambda: change(partnership.police_om, "red"), lambda: change(partnership.probation_om, "amber")
    )
    assert waited and "error" not in first and "error" not in second
    person.refresh_from_db()
    history = list(RagChange.objects.filter(offender=person).order_by("pk").values_list("from_status", "to_status"))
    assert history == [("", "red"), ("red", "amber")]
    assert person.rag_status == history[-1][1]
