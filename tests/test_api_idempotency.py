"""POST /api/posts/ with an Idempotency-Key: a client retrying after a timeout gets the post it
made the first time, never a second one, even when both requests arrive at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from posts.models import Delivery, Post
from tests.conftest import client_for
from tests.support.api import account_for

pytestmark = pytest.mark.django_db


def body(account, **fields) -> dict:
    later = timezone.now() + timedelta(days=1)
    return {
        "text": "Exactly once",
        "accounts": [account.pk],
        "scheduled_at": later.isoformat(),
        **fields,
    }


def test_a_repeated_key_returns_the_first_post_and_creates_no_second(alice, alice_api):
    fields = body(account_for(alice))

    first = alice_api.post("/api/posts/", fields, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = alice_api.post("/api/posts/", fields, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Post.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_without_a_key_each_request_makes_its_own_post(alice, alice_api):
    account = account_for(alice)

    alice_api.post("/api/posts/", body(account), format="json")
    alice_api.post("/api/posts/", body(account), format="json")

    assert Post.objects.count() == 2


def test_keys_belong_to_one_user_so_another_never_gets_their_post(alice, bob, alice_api, bob_api):
    mine = alice_api.post(
        "/api/posts/", body(account_for(alice)), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    theirs = bob_api.post(
        "/api/posts/", body(account_for(bob)), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["id"] != mine.json()["id"]
    assert Post.objects.get(pk=theirs.json()["id"]).owner == bob


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_the_same_moment_make_one_post(alice):
    fields = body(account_for(alice))
    start = threading.Barrier(2)
    answers = []

    def submit() -> None:
        api = client_for(alice)
        try:
            start.wait(timeout=10)
            response = api.post(
                "/api/posts/", fields, format="json", HTTP_IDEMPOTENCY_KEY="double-click"
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(code for code, _ in answers) == [200, 201]
    assert len({post_id for _, post_id in answers}) == 1
    assert Post.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(alice, alice_api):
    account = account_for(alice)
    first = alice_api.post("/api/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="k2")

    other = alice_api.post(
        "/api/posts/",
        body(account, text="Something else"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert f"post {first.json()['id']}" in other.json()["message"]
    assert Post.objects.get().text == "Exactly once"


def test_the_same_body_in_another_key_order_is_the_same_request(alice, alice_api):
    account = account_for(alice)
    fields = body(account)
    reordered = dict(reversed(fields.items()))

    first = alice_api.post("/api/posts/", fields, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    again = alice_api.post("/api/posts/", reordered, format="json", HTTP_IDEMPOTENCY_KEY="k3")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_a_key_longer_than_255_characters_is_refused_not_cut(alice, alice_api):
    account = account_for(alice)
    long_key = "k" * 256

    response = alice_api.post(
        "/api/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY=long_key
    )

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_too_long"
    assert "255 characters" in response.json()["message"]
    assert Post.objects.count() == 0
