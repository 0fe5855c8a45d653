"""API tokens: the legacy key of /api/auth/token/, named keys a user creates and revokes, and
the request limits per user, per token and per address for password attempts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from hayon.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def new_token(api: APIClient, name: str = "backup script", **fields) -> dict:
    response = api.post("/api/tokens/", {"name": name, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_password_exchange_still_answers_with_the_users_single_key(alice):
    api = APIClient()

    first = api.post(
        "/api/auth/token/", {"username": "alice", "password": "alice-password-1"}, format="json"
    )
    again = api.post(
        "/api/auth/token/", {"username": "alice", "password": "alice-password-1"}, format="json"
    )

    assert first.status_code == 200
    assert list(first.json()) == ["token"]
    assert again.json()["token"] == first.json()["token"]
    assert with_key(first.json()["token"]).get("/api/accounts/").status_code == 200


def test_a_wrong_password_gets_no_key_and_the_error_shape(alice):
    response = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": "guess"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["code"] == "authorization"


def test_a_named_token_works_at_once_and_its_key_is_shown_only_then(alice, alice_api):
    created = new_token(alice_api, "  phone app  ")
    listed = alice_api.get("/api/tokens/").json()

    assert created["name"] == "phone app"
    assert created["token"].startswith("hyn_") and len(created["token"]) > 40
    assert created["token"].startswith(created["prefix"])
    assert [t["name"] for t in listed] == ["phone app"]
    assert "token" not in listed[0]
    assert created["token"] not in str(ApiToken.objects.values())
    me = with_key(created["token"])
    assert me.get("/api/posts/").status_code == 200
    assert me.get(f"/api/tokens/{created['id']}/").json()["current"] is True
    assert ApiToken.objects.get().last_used_at is not None


def test_revoking_a_token_stops_it_and_leaves_the_others_working(alice_api):
    laptop, script = new_token(alice_api, "laptop"), new_token(alice_api, "script")

    response = alice_api.delete(f"/api/tokens/{laptop['id']}/")

    assert response.status_code == 204
    refused = with_key(laptop["token"]).get("/api/posts/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert refused["WWW-Authenticate"] == "Token"
    assert with_key(script["token"]).get("/api/posts/").status_code == 200
    assert [t["name"] for t in alice_api.get("/api/tokens/").json()] == ["script"]


def test_an_expired_token_is_refused(alice_api):
    soon = timezone.now() + timedelta(minutes=5)
    token = new_token(alice_api, "short-lived", expires_at=soon.isoformat())
    ApiToken.objects.filter(pk=token["id"]).update(expires_at=timezone.now())

    response = with_key(token["token"]).get("/api/posts/")

    assert response.status_code == 401


def test_it_refuses_a_nameless_token_or_one_expiring_in_the_past(alice_api):
    response = alice_api.post(
        "/api/tokens/", {"name": " ", "expires_at": "2001-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"name", "expires_at"}
    assert not ApiToken.objects.exists()


def test_a_made_up_key_in_token_form_is_refused(alice):
    assert with_key("hyn_" + "x" * 43).get("/api/posts/").status_code == 401
    assert with_key("0" * 40).get("/api/posts/").status_code == 401


def test_it_answers_429_with_retry_after_once_a_user_is_over_the_limit(alice_api, settings):
    settings.HAYON_THROTTLE_RATES = {**settings.HAYON_THROTTLE_RATES, "user": "3/minute"}

    answers = [alice_api.get("/api/accounts/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "throttled"
    assert limited.json()["retry_after"] == int(limited["Retry-After"])


def test_one_busy_token_is_limited_without_stopping_the_users_other_tokens(alice_api, settings):
    busy, quiet = new_token(alice_api, "busy"), new_token(alice_api, "quiet")
    settings.HAYON_THROTTLE_RATES = {
        **settings.HAYON_THROTTLE_RATES,
        "user": "100/minute",
        "token": "2/minute",
    }

    busy_answers = [with_key(busy["token"]).get("/api/posts/").status_code for _ in range(3)]

    assert busy_answers == [200, 200, 429]
    assert with_key(quiet["token"]).get("/api/posts/").status_code == 200


def test_the_user_limit_counts_every_token_of_the_user_together(alice_api, settings):
    one, two = new_token(alice_api, "one"), new_token(alice_api, "two")
    cache.clear()  # Creating the tokens counted too.
    settings.HAYON_THROTTLE_RATES = {
        **settings.HAYON_THROTTLE_RATES,
        "user": "2/minute",
        "token": "100/minute",
    }

    assert with_key(one["token"]).get("/api/posts/").status_code == 200
    assert with_key(two["token"]).get("/api/posts/").status_code == 200
    assert with_key(one["token"]).get("/api/posts/").status_code == 429


def test_password_guessing_is_limited_per_address(alice, settings):
    settings.HAYON_THROTTLE_RATES = {**settings.HAYON_THROTTLE_RATES, "login": "3/minute"}
    api = APIClient()

    answers = [
        api.post("/api/auth/token/", {"username": "alice", "password": f"guess-{n}"})
        for n in range(4)
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert "Retry-After" in answers[-1]
