"""Every object belongs to one user. Bob, signed in, probes every endpoint that takes an id with
Alice's ids: he gets the same 404 as for an id that does not exist, and nothing of hers
changes. He also cannot use her accounts or her uploads in his own posts."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from hayon.tokens.models import ApiToken
from media.models import Media
from platforms.models import Account
from posts.models import Delivery, DeliveryStatus, Post
from tests.support.api import account_for, create_post, upload_image

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@dataclass
class World:
    """Alice's objects, each in a state where the probed action would work for her."""

    account: Account
    draft: dict
    scheduled: dict
    failed_delivery: Delivery
    media: int
    token: int

    def ids(self) -> dict[str, int]:
        return {
            "account": self.account.pk,
            "draft": self.draft["id"],
            "post": self.scheduled["id"],
            "delivery": self.scheduled["deliveries"][0]["id"],
            "failed_post": self.failed_delivery.post_id,
            "failed_delivery": self.failed_delivery.pk,
            "media": self.media,
            "token": self.token,
        }


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(alice, alice_api) -> World:
    account = account_for(alice)
    later = (timezone.now() + timedelta(days=2)).isoformat()
    failed = create_post(alice_api, [account], text="Failed once", scheduled_at=later)
    Delivery.objects.filter(post_id=failed["id"]).update(status=DeliveryStatus.FAILED)
    token = alice_api.post("/api/tokens/", {"name": "alice's script"}, format="json")

    return World(
        account=account,
        draft=create_post(alice_api, [account], text="Alice's draft", draft=True),
        scheduled=create_post(alice_api, [account], text="Alice's post", scheduled_at=later),
        failed_delivery=Delivery.objects.get(post_id=failed["id"]),
        media=upload_image(alice_api),
        token=token.json()["id"],
    )


# (method, path, body): every operation of the API whose path holds an id.
PROBES = [
    ("GET", "/api/accounts/{account}/", None),
    ("DELETE", "/api/accounts/{account}/", None),
    ("POST", "/api/accounts/{account}/check/", None),
    ("GET", "/api/posts/{post}/", None),
    ("PATCH", "/api/posts/{post}/", {"text": "Bob was here"}),
    ("DELETE", "/api/posts/{draft}/", None),
    ("GET", "/api/posts/{post}/status/", None),
    ("POST", "/api/posts/{post}/cancel/", None),
    ("POST", "/api/posts/{post}/reschedule/", {"scheduled_at": "2099-01-01T00:00:00Z"}),
    ("POST", "/api/posts/{post}/duplicate/", None),
    ("POST", "/api/posts/{draft}/publish/", {}),
    ("GET", "/api/posts/{post}/deliveries/{delivery}/", None),
    ("POST", "/api/posts/{failed_post}/deliveries/{failed_delivery}/retry/", None),
    ("POST", "/api/posts/{post}/deliveries/{delivery}/cancel/", None),
    ("GET", "/api/posts/media/{media}/", None),
    ("DELETE", "/api/posts/media/{media}/", None),
    ("GET", "/api/tokens/{token}/", None),
    ("DELETE", "/api/tokens/{token}/", None),
]


def call(api, method: str, path: str, body):
    data = "" if body is None else json.dumps(body)
    return api.generic(method, path, data, content_type="application/json")


def snapshot(world: World) -> dict:
    """What Alice would notice if any of her objects changed."""
    return {
        "posts": list(Post.objects.order_by("pk").values("pk", "text", "status", "scheduled_at")),
        "deliveries": list(Delivery.objects.order_by("pk").values("pk", "status", "version")),
        "accounts": list(Account.objects.order_by("pk").values("pk", "health")),
        "media": list(Media.objects.order_by("pk").values("pk", "status", "key")),
        "tokens": list(ApiToken.objects.order_by("pk").values_list("pk", flat=True)),
    }


@pytest.mark.parametrize(("method", "template", "body"), PROBES, ids=lambda p: str(p))
def test_bob_gets_404_for_alices_ids_and_nothing_of_hers_changes(
    world, bob_api, method, template, body
):
    before = snapshot(world)
    missing_ids = dict.fromkeys(world.ids(), MISSING)

    response = call(bob_api, method, template.format(**world.ids()), body)
    missing = call(bob_api, method, template.format(**missing_ids), body)

    assert response.status_code == 404, response.content
    # Exactly the answer for an id that does not exist: an id reveals nothing.
    assert response.json() == missing.json()
    assert response.json()["code"] == "not_found"
    assert snapshot(world) == before


def test_bob_cannot_reach_alices_delivery_through_his_own_post(world, bob, bob_api):
    bob_post = create_post(bob_api, [account_for(bob)], draft=True)
    delivery = world.ids()["delivery"]

    for suffix in ("", "retry/", "cancel/"):
        method = "GET" if not suffix else "POST"
        path = f"/api/posts/{bob_post['id']}/deliveries/{delivery}/{suffix}"
        assert call(bob_api, method, path, None).status_code == 404


def test_bob_cannot_post_through_alices_account(world, bob, bob_api):
    bob_account = account_for(bob)
    body = {"text": "Hi", "accounts": [bob_account.pk, world.account.pk]}

    created = bob_api.post("/api/posts/", body, format="json")
    checked = bob_api.post("/api/posts/validate/", body, format="json")

    assert created.status_code == 400
    [problem] = created.json()["errors"]
    assert problem == {
        "code": "account_not_found",
        "message": f"account {world.account.pk} does not exist",
        "field": "accounts[1]",
    }
    assert [p["code"] for p in checked.json()["problems"]] == ["account_not_found"]
    assert not Post.objects.filter(owner=bob).exists()


def test_bob_cannot_attach_alices_upload_to_a_new_or_existing_post(world, bob, bob_api):
    bob_account = account_for(bob)
    draft = create_post(bob_api, [bob_account], draft=True)
    media = [{"id": world.media, "alt": "mine now"}]

    created = bob_api.post(
        "/api/posts/", {"text": "Hi", "accounts": [bob_account.pk], "media": media}, format="json"
    )
    edited = bob_api.patch(f"/api/posts/{draft['id']}/", {"media": media}, format="json")

    for response in (created, edited):
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "media_not_found"
    alices = Media.objects.get(pk=world.media)
    assert (alices.owner_id, alices.alt, alices.status) == (
        world.account.owner_id,
        "",
        "awaiting_upload",
    )


def test_bob_cannot_use_alices_account_in_an_edit_or_an_override(world, bob, bob_api):
    draft = create_post(bob_api, [account_for(bob)], draft=True)

    moved = bob_api.patch(
        f"/api/posts/{draft['id']}/", {"accounts": [world.account.pk]}, format="json"
    )
    override = bob_api.patch(
        f"/api/posts/{draft['id']}/",
        {"platform_content": {str(world.account.pk): {"text": "hi"}}},
        format="json",
    )

    assert moved.json()["errors"][0]["code"] == "account_not_found"
    assert override.json()["errors"][0]["code"] == "override_for_unselected_account"
    assert not world.account.deliveries.filter(post__owner=bob).exists()


def test_lists_and_filters_show_bob_nothing_of_alices(world, bob_api):
    assert bob_api.get("/api/accounts/").json() == []
    assert bob_api.get("/api/tokens/").json() == []
    assert bob_api.get("/api/posts/").json()["count"] == 0
    assert bob_api.get("/api/posts/", {"account": world.account.pk}).json()["count"] == 0


def test_every_operation_with_an_id_is_probed():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    with_ids = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if "{" in path
        for method in operations
        if method != "parameters"
    }
    probed = {(method, normalise(template)) for method, template, _ in PROBES}

    assert with_ids - probed == set(), "add these to PROBES"


def normalise(template: str) -> str:
    """Return a probe's path as the schema writes it: /api/posts/{id}/deliveries/{id}/."""
    parts = template.split("/")
    names = [i for i, part in enumerate(parts) if part.startswith("{")]
    for position, index in enumerate(names):
        last = position == len(names) - 1
        parts[index] = "{id}" if last else "{post_pk}"
    return "/".join(parts)
