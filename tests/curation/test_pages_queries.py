"""The gallery and the review queue run a fixed number of queries, however many artworks a page shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Style
from curation.services.review import review_claim_next, review_resolve
from tests.factories import UserFactory, review_task_create

pytestmark = pytest.mark.django_db

# Session + user + the user's permissions, then the page's own queries.
GALLERY_QUERIES = 9
REVIEW_QUEUE_QUERIES = 17


def _gallery_queries(client, per_page: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("gallery"), {"per_page": per_page, "sort": "confidence"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == per_page
    return len(captured)


def test_gallery_query_count_does_not_grow_with_page_size(client, django_assert_num_queries):
    client.force_login(UserFactory(username="cora", roles=["curator"]))
    styles = ["Baroque", "Rococo", "Cubism", "Realism"]
    tasks = [review_task_create(confidence=0.1 + index / 100, predicted_style=styles[index % 4]) for index in range(48)]
    reviewer = UserFactory(username="rita", roles=["reviewer"])
    for task in tasks[:6]:
        review_resolve(task=task, reviewer=reviewer, decision="corrected", style=Style.objects.get(code="Fauvism"))

    small = _gallery_queries(client, 24)
    large = _gallery_queries(client, 48)

    assert small == large == GALLERY_QUERIES
    with django_assert_num_queries(GALLERY_QUERIES):
        client.get(reverse("gallery"), {"per_page": 96, "style": "Baroque", "reviewed": "no", "q": "a"})


def _review_queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("review-queue"))
    assert response.status_code == 200
    assert response.context["task"] is not None
    return len(captured)


@pytest.mark.parametrize(("tasks", "decided"), [(3, 1), (24, 12)])
def test_review_queue_query_count_does_not_grow_with_queue_or_history(client, tasks, decided):
    reviewer = UserFactory(username="rita", roles=["reviewer"])
    client.force_login(reviewer)
    for index in range(tasks):
        review_task_create(confidence=0.05 + index / 100, predicted_style=["Baroque", "Rococo"][index % 2])
    for _ in range(decided):
        review_resolve(task=review_claim_next(reviewer=reviewer), reviewer=reviewer, decision="accepted")

    assert _review_queue_queries(client) == REVIEW_QUEUE_QUERIES
