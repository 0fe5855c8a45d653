"""Every error in one shape, {code, message, field, errors[]}, whatever produced it."""

import pytest
from django.test import Client

from tests.support.api import account_for

pytestmark = pytest.mark.django_db

SHAPE = {"code", "message", "field", "errors"}


def test_a_post_with_several_mistakes_gets_all_of_them_at_once(alice, alice_api):
    account = account_for(alice)

    response = alice_api.post(
        "/api/posts/",
        {
            "text": "y" * 301,
            "accounts": [account.pk, 424242],
            "media": [{"id": 0}],
            "visibility": "everyone",
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == SHAPE
    assert (body["code"], body["field"]) == ("invalid", body["errors"][0]["field"])
    assert {e["field"] for e in body["errors"]} == {"media[0].id", "visibility"}


def test_problems_found_by_the_services_are_listed_together_too(alice, alice_api):
    account = account_for(alice)

    response = alice_api.post(
        "/api/posts/",
        {"text": "y" * 301, "accounts": [account.pk, 424242], "scheduled_at": "soon"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_post"
    codes = {e["code"] for e in body["errors"]}
    assert {"invalid_datetime", "account_not_found"} <= codes
    too_long = [e for e in body["errors"] if e.get("account") == account.pk]
    assert too_long and too_long[0]["limit"] == 300


def test_an_unknown_api_url_answers_404_in_the_error_shape_and_pages_stay_html(alice_api):
    api = alice_api.get("/api/no-such-thing/")
    page = Client().get("/no-such-page/")

    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    assert set(api.json()) == SHAPE
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_json_is_a_parse_error(alice_api):
    response = alice_api.generic(
        "POST", "/api/posts/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_unsupported_method_is_405_in_the_error_shape(alice_api):
    response = alice_api.put("/api/tokens/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert set(response.json()) == SHAPE


def test_a_foreign_or_missing_id_is_404_in_the_error_shape(alice_api):
    for path in ("/api/posts/999999/", "/api/posts/abc/", "/api/posts/99999999999999999999/"):
        response = alice_api.get(path)

        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_a_form_encoded_post_is_415_while_the_token_exchange_still_takes_forms(alice, alice_api):
    account = account_for(alice)

    post = alice_api.post("/api/posts/", {"text": "Hi", "accounts": [account.pk]})
    token = Client().post(
        "/api/auth/token/", {"username": "alice", "password": "alice-password-1"}
    )

    assert post.status_code == 415
    assert post.json()["code"] == "unsupported_media_type"
    assert token.status_code == 200
    assert token.json()["token"]
