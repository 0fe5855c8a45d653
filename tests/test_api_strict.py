"""The API refuses what it cannot read exactly, in the one error shape, instead of guessing:
unknown fields, values of the wrong JSON type, bodies too deep or too large, unknown
language tags and unknown platforms."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posts.models import Post
from tests.support.api import account_for, create_post

pytestmark = pytest.mark.django_db

SHAPE = {"code", "message", "field", "errors"}


def later(days: int = 2) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def refusal(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == SHAPE
    return body


def test_it_refuses_a_misspelt_field_instead_of_publishing_at_once(alice, alice_api):
    account = account_for(alice)

    response = alice_api.post(
        "/api/posts/",
        {"text": "Next summer", "accounts": [account.pk], "schedule_at": later(200)},
        format="json",
    )

    body = refusal(response)
    assert (body["code"], body["field"]) == ("unknown_field", "schedule_at")
    assert "'schedule_at'" in body["message"]
    assert "scheduled_at" in body["message"]
    assert Post.objects.count() == 0


def test_it_lists_an_unknown_field_with_the_other_problems(alice_api):
    response = alice_api.post(
        "/api/posts/validate/", {"txt": "Hi", "accounts": "all"}, format="json"
    )

    body = refusal(response)
    assert body["code"] == "unknown_field"
    assert body["errors"][0] == {
        "code": "unknown_field",
        "message": body["message"],
        "field": "txt",
    }
    assert {e["field"] for e in body["errors"]} == {"txt", "text", "accounts"}


def test_it_refuses_unknown_fields_in_media_items_and_per_account_text(alice, alice_api):
    account = account_for(alice)

    response = alice_api.post(
        "/api/posts/validate/",
        {
            "text": "Hi",
            "accounts": [account.pk],
            "media": [{"id": 1, "alt_text": "A cat"}],
            "platform_content": {str(account.pk): {"txt": "Hello"}},
        },
        format="json",
    )

    body = refusal(response)
    unknown = {e["field"] for e in body["errors"] if e["code"] == "unknown_field"}
    assert unknown == {"media[0].alt_text", f"platform_content.{account.pk}.txt"}


def test_a_patch_with_a_time_says_to_reschedule(alice, alice_api):
    post = create_post(alice_api, [account_for(alice)], scheduled_at=later(5))

    response = alice_api.patch(
        f"/api/posts/{post['id']}/", {"scheduled_at": later(9)}, format="json"
    )

    body = refusal(response)
    assert (body["code"], body["field"]) == ("unknown_field", "scheduled_at")
    assert "/reschedule/" in body["message"]
    assert (
        alice_api.get(f"/api/posts/{post['id']}/").json()["scheduled_at"] == post["scheduled_at"]
    )


@pytest.mark.parametrize(
    ("path", "body", "unknown"),
    [
        ("/api/posts/media/upload/", {"filename": "a.png", "size": 1, "kind": "png"}, "kind"),
        ("/api/tokens/", {"name": "script", "expires": "never"}, "expires"),
        ("/api/auth/token/", {"username": "alice", "password": "x", "otp": "1"}, "otp"),
        ("/api/accounts/bluesky/", {"handle": "a.test", "app_password": "x", "pds": "x"}, "pds"),
        ("/api/posts/{id}/publish/", {"scheduled": "tomorrow"}, "scheduled"),
        ("/api/posts/{id}/reschedule/", {"scheduled_at": later(3), "tz": "UTC"}, "tz"),
    ],
)
def test_every_write_endpoint_refuses_unknown_fields(alice, alice_api, path, body, unknown):
    draft = create_post(alice_api, [account_for(alice)], draft=True)

    response = alice_api.post(path.format(id=draft["id"]), body, format="json")

    first = refusal(response)["errors"][0]
    assert (first["code"], first["field"]) == ("unknown_field", unknown)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": 5}, "text"),
        ({"accounts": ["1"]}, "accounts[0]"),
        ({"accounts": [True]}, "accounts[0]"),
        ({"media": [{"id": "1"}]}, "media[0].id"),
    ],
)
def test_it_takes_text_only_as_a_string_and_ids_only_as_integers(alice, alice_api, fields, field):
    account = account_for(alice)
    body = {"text": "Hi", "accounts": [account.pk], **fields}

    response = alice_api.post("/api/posts/validate/", body, format="json")

    errors = refusal(response)["errors"]
    assert [e["field"] for e in errors] == [field]


def test_it_refuses_a_language_tag_that_is_not_bcp_47(alice, alice_api):
    account = account_for(alice)
    body = {"text": "Hi", "accounts": [account.pk], "langs": ["en", "not a language!!"]}

    checked = alice_api.post("/api/posts/validate/", body, format="json")
    created = alice_api.post("/api/posts/", body, format="json")

    for response in (checked, created):
        error = refusal(response)
        assert error["field"] == "langs[1]"
        assert "'not a language!!'" in error["message"]
    assert Post.objects.count() == 0


def test_it_takes_well_formed_language_tags(alice, alice_api):
    account = account_for(alice)
    body = {"text": "Olá", "accounts": [account.pk], "langs": ["pt-BR", "en", "zh-Hant"]}

    response = alice_api.post("/api/posts/validate/", body, format="json")

    assert response.status_code == 200, response.json()


def test_a_too_long_per_account_text_names_the_override(alice, alice_api):
    account = account_for(alice)
    other = account_for(alice, "alice-art.test")
    body = {
        "text": "y" * 301,
        "accounts": [account.pk, other.pk],
        "platform_content": {str(account.pk): {"text": "x" * 400}},
    }

    response = alice_api.post("/api/posts/", body, format="json")

    errors = refusal(response)["errors"]
    fields = {e["account"]: e["field"] for e in errors if e["code"] == "text_too_long"}
    assert fields == {account.pk: f"platform_content.{account.pk}.text", other.pk: "text"}


def test_a_deeply_nested_body_is_a_parse_error(alice_api):
    response = alice_api.generic(
        "POST", "/api/posts/", "[" * 100_000, content_type="application/json"
    )

    body = refusal(response)
    assert body["code"] == "parse_error"


def test_a_body_over_the_upload_limit_is_413_in_the_error_shape(alice_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    text = "y" * 2_000

    response = alice_api.post("/api/posts/", {"text": text, "accounts": []}, format="json")

    body = refusal(response, 413)
    assert body["code"] == "request_too_large"
    assert "1000 bytes" in body["message"]


def test_connecting_an_unknown_platform_is_404_unknown_platform(alice_api):
    response = alice_api.post("/api/accounts/myspace/", {}, format="json")

    body = refusal(response, 404)
    assert body["code"] == "unknown_platform"
    assert "'myspace'" in body["message"]
    assert alice_api.get("/api/accounts/myspace/").status_code == 404
