"""Claims under real concurrency on PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED plus the conditional UPDATE."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from curation.models import ReviewEvent, ReviewTask
from curation.services.review import review_claim_next, review_resolve
from tests.factories import UserFactory, review_task_create

# Threads need committed rows: a transactional database (tests/conftest.py restores the reference data).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_in_threads(workers: list) -> list:
    """Run each callable in its own thread (own database connection), started together; re-raise failures."""
    barrier = threading.Barrier(len(workers))
    results: list = [None] * len(workers)
    errors: list = []

    def run(index: int, work) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work()
        except BaseException as exc:  # handed to the main thread, which fails the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, work)) for index, work in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_two_reviewers_claiming_at_once_never_get_the_same_task(require_postgres):
    assert connection.vendor == "postgresql"
    for index in range(6):
        review_task_create(confidence=0.1 + index / 10)
    alice = UserFactory(username="alice", roles=["reviewer"])
    bob = UserFactory(username="bob", roles=["reviewer"])

    for _round in range(3):
        claimed = _run_in_threads(
            [lambda: review_claim_next(reviewer=alice).pk, lambda: review_claim_next(reviewer=bob).pk]
        )
        assert claimed[0] != claimed[1]
        # Decide both so that the next round races for fresh tasks.
        review_resolve(task=ReviewTask.objects.get(pk=claimed[0]), reviewer=alice, decision="accepted")
        review_resolve(task=ReviewTask.objects.get(pk=claimed[1]), reviewer=bob, decision="accepted")

    assert ReviewTask.objects.filter(status="resolved").count() == 6
    assert ReviewEvent.objects.filter(action="claimed").count() == 6


def test_200_claims_from_4_threads_hand_out_200_distinct_tasks(require_postgres):
    tasks = [review_task_create(confidence=(index % 97) / 100) for index in range(200)]
    reviewers = [UserFactory(username=f"reviewer{index}", roles=["reviewer"]) for index in range(4)]

    def work(reviewer) -> list[int]:
        claimed = []
        for _ in range(50):
            task = review_claim_next(reviewer=reviewer)
            claimed.append(task.pk)
            review_resolve(task=task, reviewer=reviewer, decision="accepted")
        return claimed

    per_thread = _run_in_threads([lambda reviewer=reviewer: work(reviewer) for reviewer in reviewers])

    handed_out = [pk for claimed in per_thread for pk in claimed]
    assert len(handed_out) == 200
    assert set(handed_out) == {task.pk for task in tasks}
    assert ReviewTask.objects.filter(status="resolved").count() == 200
    claims = Counter(ReviewEvent.objects.filter(action="claimed").values_list("task_id", flat=True))
    assert set(claims.values()) == {1}
    assert len(claims) == 200
