"""The review queue and the overview figures over the API."""

from __future__ import annotations

from curation.models import Artwork
from tests.factories import ArtworkFactory, review_task_create


def test_review_queue_over_the_api(role_users, client_for):
    task = review_task_create(confidence=0.3, image_index=2)
    rita = client_for("reviewer")

    claimed = rita.post("/api/v1/reviews/claim/")
    assert claimed.status_code == 200
    assert (claimed.json()["id"], claimed.json()["status"], claimed.json()["claimed_by"]) == (
        task.pk,
        "claimed",
        "reviewer",
    )
    assert claimed.json()["top3"] == [{"style": e["style"], "prob": e["prob"]} for e in task.prediction.top3]
    assert claimed.json()["top3"][0] == {"style": "Impressionism", "prob": 0.3}

    skipped = rita.post(f"/api/v1/reviews/{task.pk}/skip/")
    assert (skipped.status_code, skipped.json()["status"], skipped.json()["claimed_by"]) == (200, "open", None)
    # The skipper is not offered it again: nothing left for them.
    nothing = rita.post("/api/v1/reviews/claim/")
    assert (nothing.status_code, nothing.content) == (204, b"")
    assert rita.post("/api/v1/reviews/undo/").json()["error"] == {
        "code": "nothing_to_undo",
        "message": "You have no decision to undo.",
        "fields": {},
    }

    # Resolving an open task claims it on the way; undo gives it back to the reviewer.
    resolved = rita.post(f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "not_in_taxonomy"}, format="json")
    assert (resolved.json()["status"], resolved.json()["decision"], resolved.json()["final_style"]) == (
        "resolved",
        "not_in_taxonomy",
        None,
    )
    again = rita.post(f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "accepted"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_claimable")
    undone = rita.post("/api/v1/reviews/undo/")
    assert (undone.json()["id"], undone.json()["status"], undone.json()["claimed_by"]) == (
        task.pk,
        "claimed",
        "reviewer",
    )
    released = rita.post(f"/api/v1/reviews/{task.pk}/release/")
    assert (released.json()["status"], released.json()["claimed_by"]) == ("open", None)
    assert Artwork.objects.get(pk=task.artwork_id).status == Artwork.Status.NEEDS_REVIEW


def test_stats_reports_the_overview_figures(role_users, client_for):
    review_task_create(confidence=0.35, image_index=8)
    ArtworkFactory(image_index=9)
    stats = client_for("curator").get("/api/v1/stats/").json()
    assert stats["total_artworks"] == 2
    assert stats["status_counts"] == {"pending": 1, "classified": 0, "needs_review": 1, "reviewed": 0, "failed": 0}
    assert (stats["queue"]["depth"], stats["queue"]["claimed"]) == (1, 0)
    assert stats["predictions_last_hour"] == 1
    assert [row["count"] for row in stats["confidence_histogram"]] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert stats["active_model"] is None
    assert len(stats["style_counts"]) == 27
