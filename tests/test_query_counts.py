"""How many SQL queries the two hot paths make: creating a post through the API, and the worker
publishing one delivery. A change that adds a query per account, or reads a row twice, fails
here before it shows in bench.api or bench.pipeline.

The counts include the SAVEPOINT and RELEASE of each transaction.atomic block, because every
test runs inside a transaction; in production those are a BEGIN and a COMMIT instead.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from platforms.models import Account
from posts import dispatch, publishing
from posts.dispatch import enqueue_if_due
from posts.models import Delivery, DeliveryStatus, Post
from tests.fakes.posting import connect
from tests.support.api import account_for, upload_image

pytestmark = pytest.mark.django_db

# Auth, accounts, post, deliveries, the claim of the deliveries for sending, and the answer
# (post, deliveries with their accounts, images), with one SAVEPOINT and RELEASE.
CREATE_QUERIES = 10
# The image adds reading it, locking it, saving where it moved, and linking it to the post;
# the answer reads it with the post's images.
CREATE_WITH_IMAGE_QUERIES = 14
# Each further account may cost at most this many queries, however many there are.
PER_EXTRA_ACCOUNT = 0
# Read the delivery, claim it and open the attempt, status, images, record the success and
# close the attempt, status again; with two SAVEPOINT and RELEASE pairs.
PUBLISH_QUERIES = 14

# Every platform that takes a post without an image, as bench.api posts to.
PLATFORMS = ["bluesky", "mastodon", "threads", "facebook", "tumblr", "bluesky"]


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice_accounts(alice) -> list[Account]:
    return [
        account_for(
            alice,
            f"alice{position}.test",
            platform=platform,
            base_url="https://mastodon.example" if platform == "mastodon" else "",
        )
        for position, platform in enumerate(PLATFORMS)
    ]


def later() -> str:
    return (timezone.now() + timedelta(days=30)).isoformat()


def post_body(accounts: list[Account], **fields) -> dict:
    return {
        "text": "Counting queries https://example.com #tag",
        "accounts": [a.pk for a in accounts],
        **fields,
    }


def queries_to_create(api, capture_on_commit, body: dict) -> int:
    """Create the post as a client does, messages sent on commit included; return the count."""
    with CaptureQueriesContext(connection) as queries, capture_on_commit(execute=True):
        response = api.post("/api/posts/", body, format="json")

    assert response.status_code == 201, response.json()
    return len(queries)


def test_it_creates_a_post_to_one_account_in_a_fixed_number_of_queries(
    alice_api, alice_accounts, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(CREATE_QUERIES):
        queries_to_create(
            alice_api, django_capture_on_commit_callbacks, post_body(alice_accounts[:1])
        )

    [delivery] = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.enqueued_at is not None


def test_it_schedules_a_post_in_no_more_queries_than_posting_now(
    alice_api, alice_accounts, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(CREATE_QUERIES):
        queries_to_create(
            alice_api,
            django_capture_on_commit_callbacks,
            post_body(alice_accounts, scheduled_at=later()),
        )

    assert set(Delivery.objects.values_list("status", "enqueued_at")) == {
        (DeliveryStatus.PENDING, None)
    }
    assert Post.objects.get().status == "SCHEDULED"


def test_it_costs_no_more_queries_per_extra_account(
    alice_api, alice_accounts, django_capture_on_commit_callbacks
):
    to_one = queries_to_create(
        alice_api, django_capture_on_commit_callbacks, post_body(alice_accounts[:1])
    )
    to_six = queries_to_create(
        alice_api, django_capture_on_commit_callbacks, post_body(alice_accounts)
    )

    assert to_six - to_one <= PER_EXTRA_ACCOUNT * (len(alice_accounts) - 1)
    assert Delivery.objects.filter(status=DeliveryStatus.QUEUED).count() == 7


def test_it_creates_a_post_with_an_image_in_a_fixed_number_of_queries(
    alice_api, alice_accounts, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    body = post_body(alice_accounts, media=[{"id": upload_image(alice_api), "alt": "A cake"}])

    with django_assert_max_num_queries(CREATE_WITH_IMAGE_QUERIES):
        queries_to_create(alice_api, django_capture_on_commit_callbacks, body)

    assert Post.objects.get().media.get().alt == "A cake"


@pytest.fixture
def tumblr_delivery(alice, alice_api, fakes, platform_env) -> Delivery:
    """A queued delivery of a post to a Tumblr blog on the fake, which answers at once."""
    tumblr = fakes["tumblr"]
    tumblr.reset()
    _, tokens = tumblr.add_user("alicebakes", "alicesideblog")
    credentials = {key: tokens[key] for key in ("access_token", "refresh_token", "expires_in")}
    account = connect(alice_api, "tumblr", {**credentials, "blog": "alicebakes"})
    body = {"text": "Fresh bread today", "accounts": [account["id"]]}
    post = alice_api.post("/api/posts/", body, format="json").json()
    # No commit happens in this test, so no message is sent: mark it queued by hand.
    Delivery.objects.filter(post_id=post["id"]).update(status=DeliveryStatus.QUEUED)
    return Delivery.objects.get(post_id=post["id"])


def test_it_publishes_a_delivery_in_a_fixed_number_of_queries(
    tumblr_delivery, fakes, django_assert_max_num_queries
):
    with django_assert_max_num_queries(PUBLISH_QUERIES):
        outcome = publishing.publish(tumblr_delivery.pk, tumblr_delivery.version)

    assert outcome is publishing.Outcome.PUBLISHED
    tumblr_delivery.refresh_from_db()
    assert tumblr_delivery.attempt_count == 1
    assert tumblr_delivery.post.status == "COMPLETED"
    assert len(fakes["tumblr"].posts) == 1


def waiting_deliveries(owner, accounts: list[Account], due_in_days: list[int]) -> list[int]:
    """Store a post's deliveries, waiting for a message, each due so many days from now."""
    now = timezone.now()
    post = Post.objects.create(owner=owner, text="Waiting to be sent")
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            post=post,
            account=account,
            platform=account.platform,
            next_attempt_at=now + timedelta(days=days),
            idempotency_key=f"key-{account.pk}",
        )
        for account, days in zip(accounts, due_in_days, strict=False)
    )
    return [d.pk for d in deliveries]


def test_it_sends_each_due_delivery_once_however_often_asked(alice, alice_accounts):
    ids = waiting_deliveries(alice, alice_accounts, [0, 0, 0, 30])

    with CaptureQueriesContext(connection) as queries:
        first = enqueue_if_due(ids)
    again = enqueue_if_due(ids)

    assert (first, again) == (3, 0)
    assert len(queries) == 1
    assert sorted(Delivery.objects.values_list("status", flat=True)) == [
        "pending",
        "queued",
        "queued",
        "queued",
    ]


def test_it_lets_go_of_the_deliveries_it_could_not_try_when_the_broker_fails(
    alice, alice_accounts, monkeypatch
):
    ids = waiting_deliveries(alice, alice_accounts, [0, 0, 0])
    sent = []
    real_send = dispatch.send

    def broker_fails_on_the_second(delivery, now=None):
        if sent:
            raise ConnectionError("broker unreachable")
        sent.append(delivery.pk)
        real_send(delivery, now)

    monkeypatch.setattr(dispatch, "send", broker_fails_on_the_second)

    with pytest.raises(ConnectionError):
        enqueue_if_due(ids)

    enqueued = dict(Delivery.objects.values_list("pk", "enqueued_at"))
    first, failed, untried = ids
    assert sent == [first]
    # The failed one may have reached the broker: resend_lost decides after the grace period.
    assert enqueued[failed] is not None
    assert enqueued[untried] is None
