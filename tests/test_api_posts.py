"""The posts API as a client uses it: compose, list, edit before publishing starts, duplicate,
publish a draft, delete a draft. Uploads go through the real local media backend."""

from datetime import timedelta

import pytest
from django.utils import timezone

from media.models import Media
from posts import publishing
from posts.models import Delivery, DeliveryStatus, Post, PostStatus
from tests.support.api import account_for, create_post, upload_image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice_sky(alice):
    return account_for(alice, "alice.test")


@pytest.fixture
def alice_second(alice):
    return account_for(alice, "alice-art.test")


def later(days: int = 2) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def listed_ids(api, **query) -> set[int]:
    response = api.get("/api/posts/", query)
    assert response.status_code == 200, response.json()
    return {p["id"] for p in response.json()["results"]}


def test_it_lists_only_the_callers_posts_newest_first_in_pages(alice_api, bob, alice_sky):
    bob_sky = account_for(bob)
    Post.objects.create(owner=bob, text="Bob's")
    for n in range(3):
        create_post(alice_api, [alice_sky], text=f"Post {n}", scheduled_at=later())
    assert bob_sky.owner == bob

    first = alice_api.get("/api/posts/", {"page_size": 2}).json()
    second = alice_api.get(first["next"]).json()

    assert first["count"] == 3
    assert [p["text"] for p in first["results"]] == ["Post 2", "Post 1"]
    assert [p["text"] for p in second["results"]] == ["Post 0"]
    assert second["next"] is None


def test_it_filters_posts_by_status_account_and_schedule(alice_api, alice_sky, alice_second):
    soon = create_post(alice_api, [alice_sky], scheduled_at=later(1))
    far = create_post(alice_api, [alice_second], scheduled_at=later(20))
    draft = create_post(alice_api, [alice_sky], draft=True)

    def ids(**query):
        response = alice_api.get("/api/posts/", query)
        assert response.status_code == 200, response.json()
        return {p["id"] for p in response.json()["results"]}

    assert ids(status="DRAFT") == {draft["id"]}
    assert ids(status=["SCHEDULED", "DRAFT"]) == {soon["id"], far["id"], draft["id"]}
    assert ids(account=alice_second.pk) == {far["id"]}
    assert ids(scheduled_after=later(10)) == {far["id"]}
    assert ids(scheduled_before=later(10)) == {soon["id"]}


def test_it_filters_by_calendar_day_in_the_callers_timezone(alice_api, alice_sky):
    day = timezone.now().date() + timedelta(days=10)
    next_day = day + timedelta(days=1)
    # 23:30 and 00:30 in Berlin: both on `day` in UTC, on two different days in Berlin.
    late = create_post(
        alice_api, [alice_sky], scheduled_at=f"{day}T23:30", timezone="Europe/Berlin"
    )
    early = create_post(
        alice_api, [alice_sky], scheduled_at=f"{next_day}T00:30", timezone="Europe/Berlin"
    )

    def ids(**query):
        return listed_ids(alice_api, **query)

    berlin = {"timezone": "Europe/Berlin"}
    assert ids(date_from=day, date_to=day, **berlin) == {late["id"]}
    assert ids(date_from=next_day, date_to=next_day, **berlin) == {early["id"]}
    assert ids(date_from=next_day, **berlin) == {early["id"]}
    assert ids(date_to=day, **berlin) == {late["id"]}
    assert ids(date_from=day, date_to=day, timezone="UTC") == {late["id"], early["id"]}
    assert ids(date_from=next_day, date_to=next_day) == set()  # UTC without a zone cookie

    alice_api.cookies["hayon_tz"] = "Europe/Berlin"
    assert ids(date_from=next_day, date_to=next_day) == {early["id"]}


def test_it_reads_a_filter_time_without_offset_in_the_lists_zone(alice_api, alice_sky):
    day = timezone.now().date() + timedelta(days=10)
    # 23:30 in Berlin is 22:30 UTC (21:30 in summer): before 23:00 UTC either way.
    late = create_post(
        alice_api, [alice_sky], scheduled_at=f"{day}T23:30", timezone="Europe/Berlin"
    )

    def ids(**query):
        return listed_ids(alice_api, **query)

    assert ids(scheduled_after=f"{day}T23:00") == set()  # UTC without a zone cookie
    assert ids(scheduled_after=f"{day}T23:00", timezone="Europe/Berlin") == {late["id"]}
    assert ids(scheduled_before=f"{day}T23:00+01:00", timezone="Europe/Berlin") == set()

    alice_api.cookies["hayon_tz"] = "Europe/Berlin"
    assert ids(scheduled_after=f"{day}T23:00") == {late["id"]}


def test_it_names_a_bad_zone_or_reversed_days_in_the_day_filter(alice_api):
    response = alice_api.get(
        "/api/posts/",
        {"date_from": "2027-01-05", "date_to": "2027-01-04", "timezone": "Mars/Olympus"},
    )

    assert response.status_code == 400
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert "Unknown timezone 'Mars/Olympus'" in errors["timezone"]["message"]
    assert errors["timezone"]["code"] == "unknown_timezone"
    assert errors["date_to"]["message"] == "date_to 2027-01-04 is before date_from 2027-01-05."
    assert errors["date_to"]["code"] == "date_order"


def test_it_rejects_a_filter_it_cannot_read_with_the_error_shape(alice_api):
    response = alice_api.get("/api/posts/", {"status": "SOMEDAY", "account": "x"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {e["field"] for e in body["errors"]} == {"status", "account"}


def test_it_validates_a_post_without_creating_it_and_lists_every_problem(alice_api, alice_sky):
    response = alice_api.post(
        "/api/posts/validate/",
        {"text": "x" * 301, "accounts": [alice_sky.pk, 987654], "scheduled_at": "tomorrow"},
        format="json",
    )

    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is False
    codes = {p["code"] for p in report["problems"]}
    assert {"invalid_datetime", "account_not_found"} <= codes
    [bluesky] = report["accounts"]
    assert (bluesky["measured"], bluesky["limit"], bluesky["ok"]) == (301, 300, False)
    assert not Post.objects.exists()


def test_it_edits_the_text_of_a_scheduled_post_and_restarts_its_deliveries(alice_api, alice_sky):
    post = create_post(alice_api, [alice_sky], text="Frist draft", scheduled_at=later())
    before = Delivery.objects.get(post_id=post["id"])

    response = alice_api.patch(
        f"/api/posts/{post['id']}/",
        {"text": "First draft", "platform_content": {str(alice_sky.pk): {"text": "For sky"}}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "First draft"
    assert response.json()["status"] == PostStatus.SCHEDULED
    after = Delivery.objects.get(pk=before.pk)
    assert after.text == "For sky"
    assert after.version == before.version + 1
    assert after.status == DeliveryStatus.PENDING
    # A message sent before the edit carries the old version: the worker skips it.
    assert publishing.publish(before.pk, before.version) is publishing.Outcome.SKIPPED


def test_it_replaces_the_images_of_a_post_and_deletes_the_one_taken_off(alice_api, alice_sky):
    old, new = upload_image(alice_api), upload_image(alice_api)
    post = create_post(
        alice_api, [alice_sky], media=[{"id": old, "alt": "Old"}], scheduled_at=later()
    )

    response = alice_api.patch(
        f"/api/posts/{post['id']}/", {"media": [{"id": new, "alt": "New"}]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert [(m["id"], m["alt"]) for m in response.json()["media"]] == [(new, "New")]
    assert not Media.objects.filter(pk=old).exists()
    assert Media.objects.get(pk=new).key.startswith(f"posts/{alice_sky.owner_id}/{post['id']}/")


def test_it_keeps_an_image_already_on_the_post_and_updates_its_alt(alice_api, alice_sky):
    image = upload_image(alice_api)
    post = create_post(alice_api, [alice_sky], media=[{"id": image}], draft=True)

    response = alice_api.patch(
        f"/api/posts/{post['id']}/",
        {"text": "Now with alt", "media": [{"id": image, "alt": "A gradient"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["media"][0]["alt"] == "A gradient"
    assert Media.objects.get(pk=image).alt == "A gradient"


def test_it_refuses_to_edit_a_post_once_a_delivery_has_started(alice_api, alice_sky):
    post = create_post(alice_api, [alice_sky], text="Going out")
    Delivery.objects.filter(post_id=post["id"]).update(
        status=DeliveryStatus.PUBLISHING, attempt_count=1
    )

    response = alice_api.patch(f"/api/posts/{post['id']}/", {"text": "Too late"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "post_started"
    assert Post.objects.get(pk=post["id"]).text == "Going out"


def test_it_refuses_an_edit_that_breaks_a_platform_rule_and_changes_nothing(alice_api, alice_sky):
    post = create_post(alice_api, [alice_sky], text="Short", scheduled_at=later())
    version = Delivery.objects.get(post_id=post["id"]).version

    response = alice_api.patch(f"/api/posts/{post['id']}/", {"text": "y" * 301}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["account"] == alice_sky.pk
    assert Post.objects.get(pk=post["id"]).text == "Short"
    assert Delivery.objects.get(post_id=post["id"]).version == version


def test_it_changes_the_accounts_of_a_draft_but_not_of_a_scheduled_post(
    alice_api, alice_sky, alice_second
):
    draft = create_post(alice_api, [alice_sky], draft=True)
    scheduled = create_post(alice_api, [alice_sky], scheduled_at=later())

    moved = alice_api.patch(
        f"/api/posts/{draft['id']}/", {"accounts": [alice_second.pk]}, format="json"
    )
    refused = alice_api.patch(
        f"/api/posts/{scheduled['id']}/", {"accounts": [alice_second.pk]}, format="json"
    )

    assert moved.status_code == 200, moved.json()
    assert [d["account"] for d in moved.json()["deliveries"]] == [alice_second.pk]
    assert refused.status_code == 400
    assert refused.json()["code"] == "accounts_fixed"


def test_it_publishes_a_draft_at_the_chosen_time(alice_api, alice_sky):
    draft = create_post(alice_api, [alice_sky], draft=True)

    response = alice_api.post(
        f"/api/posts/{draft['id']}/publish/",
        {"scheduled_at": "2099-01-01T09:00:00", "timezone": "Europe/Berlin"},
        format="json",
    )
    again = alice_api.post(f"/api/posts/{draft['id']}/publish/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "too_far"
    assert again.status_code == 200, again.json()
    assert again.json()["status"] == PostStatus.PENDING
    assert alice_api.post(f"/api/posts/{draft['id']}/publish/").status_code == 409


def test_it_duplicates_a_post_as_a_draft_with_copies_of_its_images(alice_api, alice_sky):
    image = upload_image(alice_api)
    original = create_post(
        alice_api,
        [alice_sky],
        text="Again",
        media=[{"id": image, "alt": "Sky"}],
        platform_content={str(alice_sky.pk): {"text": "Again, on sky"}},
        scheduled_at=later(),
    )

    response = alice_api.post(f"/api/posts/{original['id']}/duplicate/")

    assert response.status_code == 201, response.json()
    copy = response.json()
    assert copy["id"] != original["id"]
    assert (copy["text"], copy["status"], copy["scheduled_at"]) == ("Again", "DRAFT", None)
    assert [d["text"] for d in copy["deliveries"]] == ["Again, on sky"]
    [copied] = copy["media"]
    assert copied["id"] != image and copied["alt"] == "Sky"
    old, new = Media.objects.get(pk=image), Media.objects.get(pk=copied["id"])
    assert new.key.startswith(f"posts/{alice_sky.owner_id}/{copy['id']}/")
    assert (new.size, new.width, new.height) == (old.size, old.width, old.height)


def test_it_deletes_a_draft_with_its_images_but_not_a_scheduled_post(alice_api, alice_sky):
    image = upload_image(alice_api)
    draft = create_post(alice_api, [alice_sky], media=[{"id": image}], draft=True)
    scheduled = create_post(alice_api, [alice_sky], scheduled_at=later())

    deleted = alice_api.delete(f"/api/posts/{draft['id']}/")
    refused = alice_api.delete(f"/api/posts/{scheduled['id']}/")

    assert deleted.status_code == 204
    assert not Post.objects.filter(pk=draft["id"]).exists()
    assert not Media.objects.filter(pk=image).exists()
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_a_draft"


def test_it_cancels_and_reschedules_a_scheduled_post(alice_api, alice_sky, alice_second):
    post = create_post(alice_api, [alice_sky, alice_second], scheduled_at=later())

    moved = alice_api.post(
        f"/api/posts/{post['id']}/reschedule/", {"scheduled_at": later(3)}, format="json"
    )
    cancelled = alice_api.post(f"/api/posts/{post['id']}/cancel/")
    again = alice_api.post(f"/api/posts/{post['id']}/cancel/")

    assert moved.status_code == 200, moved.json()
    assert len(moved.json()["changed"]) == 2
    assert cancelled.json()["post"]["status"] == PostStatus.CANCELLED
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_cancel"
    assert (
        alice_api.patch(f"/api/posts/{post['id']}/", {"text": "?"}, format="json").status_code
        == 409
    )


def test_it_shows_a_post_status_and_one_delivery(alice_api, alice_sky):
    post = create_post(alice_api, [alice_sky], scheduled_at=later())
    delivery = post["deliveries"][0]

    status = alice_api.get(f"/api/posts/{post['id']}/status/").json()
    detail = alice_api.get(f"/api/posts/{post['id']}/deliveries/{delivery['id']}/").json()

    assert status["status"] == "SCHEDULED"
    assert status["deliveries"][0]["handle"] == "alice.test"
    assert detail["status"] == "pending"
    assert detail["attempt_log"] == []


def test_it_cancels_one_delivery_and_leaves_its_sibling_scheduled(
    alice_api, alice_sky, alice_second
):
    post = create_post(alice_api, [alice_sky, alice_second], scheduled_at=later())
    first, second = (d["id"] for d in post["deliveries"])

    cancelled = alice_api.post(f"/api/posts/{post['id']}/deliveries/{first}/cancel/")
    again = alice_api.post(f"/api/posts/{post['id']}/deliveries/{first}/cancel/")
    status = alice_api.get(f"/api/posts/{post['id']}/status/").json()

    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["code"] == "not_cancellable"
    assert {d["id"]: d["status"] for d in status["deliveries"]} == {
        first: "cancelled",
        second: "pending",
    }
    assert status["status"] == PostStatus.SCHEDULED
    assert Delivery.objects.get(pk=second).version == 1


def test_it_reports_a_published_delivery_on_cancel_and_reschedule_without_undoing_it(
    alice_api, alice_sky, alice_second
):
    post = create_post(alice_api, [alice_sky, alice_second], scheduled_at=later())
    published, waiting = (d["id"] for d in post["deliveries"])
    Delivery.objects.filter(pk=published).update(
        status=DeliveryStatus.PUBLISHED, remote_url="https://bsky.app/profile/a/post/1"
    )

    moved = alice_api.post(
        f"/api/posts/{post['id']}/reschedule/", {"scheduled_at": later(4)}, format="json"
    )
    cancelled = alice_api.post(f"/api/posts/{post['id']}/cancel/")

    assert moved.status_code == 200, moved.json()
    assert moved.json()["changed"] == [waiting]
    assert moved.json()["unchanged"] == [{"delivery": published, "status": "published"}]
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["changed"] == [waiting]
    assert cancelled.json()["unchanged"] == [{"delivery": published, "status": "published"}]
    assert Delivery.objects.get(pk=published).status == DeliveryStatus.PUBLISHED
    assert Delivery.objects.get(pk=published).remote_url.endswith("/post/1")
    assert cancelled.json()["post"]["status"] == PostStatus.COMPLETED


def test_it_moves_a_post_to_a_local_time_in_the_zone_sent_and_keeps_the_posts_zone_otherwise(
    alice_api, alice_sky
):
    day = timezone.now().date() + timedelta(days=5)
    post = create_post(
        alice_api, [alice_sky], scheduled_at=f"{day}T09:00", timezone="Asia/Kolkata"
    )
    url = f"/api/posts/{post['id']}/reschedule/"

    naive = alice_api.post(url, {"scheduled_at": f"{day}T10:00"}, format="json")
    local = alice_api.post(
        url, {"scheduled_at": f"{day}T10:00", "timezone": "Asia/Kolkata"}, format="json"
    )
    offset = alice_api.post(url, {"scheduled_at": f"{day}T06:00:00Z"}, format="json")

    assert naive.status_code == 400
    assert naive.json()["code"] == "naive_datetime"
    assert local.json()["post"]["scheduled_at"] == f"{day}T04:30:00Z"
    assert offset.json()["post"]["scheduled_at"] == f"{day}T06:00:00Z"
    assert offset.json()["post"]["timezone"] == "Asia/Kolkata"
