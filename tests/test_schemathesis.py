"""Schema-driven fuzzing: schemathesis reads /api/schema/ from the running app (pytest-django's
live server, a real HTTP server in a thread) and sends generated requests to every operation,
valid and invalid. No answer may be a 5xx, and every answer must match the schema: status
code, content type, headers and body.

Alice owns a few objects, and about half of the generated ids are swapped for hers, so the
operations run on real objects and not only on 404s. Bounded: a few examples per operation,
and a timeout well under two minutes for the whole run.
"""

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from tests.support.api import account_for, create_post, upload_image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(110)]

EXAMPLES = 10
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
# Where each platform's connect call goes: a closed port on loopback, refused at once.
DEAD_END = "http://127.0.0.1:9"
PLATFORM_URLS = (
    "HAYON_BLUESKY_SERVICE_URL",
    "HAYON_GRAPH_API_URL",
    "HAYON_INSTAGRAM_API_URL",
    "HAYON_THREADS_API_URL",
    "HAYON_TUMBLR_API_URL",
)


@pytest.fixture
def world(settings, tmp_path, alice, alice_api) -> dict:
    settings.HAYON_THROTTLE_RATES = {"user": None, "token": None, "login": None}
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_MEDIA_ROOT = tmp_path / "media"
    settings.HAYON_PLATFORM_TIMEOUT = 2.0
    for name in PLATFORM_URLS:
        setattr(settings, name, DEAD_END)

    account = account_for(alice)
    later = (timezone.now() + timezone.timedelta(days=3)).isoformat()
    scheduled = create_post(alice_api, [account], scheduled_at=later)
    draft = create_post(alice_api, [account], draft=True)
    token = alice_api.post("/api/tokens/", {"name": "fuzzed"}, format="json").json()

    return {
        "/api/accounts/": [account.pk],
        "/api/posts/media/": [upload_image(alice_api)],
        "/api/posts/": [scheduled["id"], draft["id"]],
        "deliveries": [scheduled["deliveries"][0]["id"]],
        "/api/tokens/": [token["id"]],
    }


def use_real_ids(case, world: dict) -> None:
    """Swap an odd generated id for one of Alice's objects of the same kind."""
    for name, value in list((case.path_parameters or {}).items()):
        if not isinstance(value, int) or value % 2 == 0:
            continue
        if name == "post_pk":
            kind = "/api/posts/"
        elif "/deliveries/" in case.path:
            kind = "deliveries"
        else:
            kind = max((k for k in world if case.path.startswith(k)), key=len, default=None)
        if kind:
            case.path_parameters[name] = world[kind][value % len(world[kind])]

    # Bodies naming accounts get Alice's, so posts can be created and edited for real.
    body = case.body if isinstance(case.body, dict) else {}
    if isinstance(body.get("accounts"), list):
        body["accounts"] = [
            world["/api/accounts/"][0] if isinstance(a, int) and a % 2 else a
            for a in body["accounts"]
        ]


def fuzz(operation, mode: GenerationMode, send) -> str | None:
    """Run generated cases of one operation; return the first failure, described, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        send(case)

    try:
        run()
    except Unsatisfiable:
        # Nothing to break: e.g. no negative input exists for an operation without parameters.
        return None
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
        return f"{operation.label} ({mode.value}): {exc}"
    return None


def test_the_api_answers_every_request_as_its_schema_says(live_server, world, alice):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    token, _ = Token.objects.get_or_create(user=alice)

    def send(case) -> None:
        use_real_ids(case, world)
        case.call_and_validate(
            base_url=live_server.url,
            headers={"Authorization": f"Token {token.key}"},
            checks=CHECKS,
        )

    operations = [result.ok() for result in schema.get_all_operations()]
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = fuzz(operation, mode, send)
            if failure:
                failures.append(failure)

    assert len(operations) >= 25
    assert failures == [], "\n\n".join(failures)
