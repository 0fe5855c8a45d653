"""Every API error in one shape: {"code", "message", "field", "errors": [...]}.

`errors` lists every problem at once, each with its own code, message and field, so a client
can show them next to what caused them. `field` is null when the error concerns the request
as a whole. A 429 also carries `retry_after` (seconds) besides the Retry-After header.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hayon.errors import HayonError
from hayon.serializers import UNKNOWN_FIELD


class ProblemSerializer(serializers.Serializer):
    """One problem; platform checks add what they measured (`account`, `limit`, `measured`)."""

    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `too_long`.")
    message = serializers.CharField(help_text="What is wrong, in words a person can act on.")
    field = serializers.CharField(
        required=False,
        help_text="The input it concerns, as a path: `text`, `accounts[1]`, `media[0].id`.",
    )
    account = serializers.IntegerField(
        required=False, help_text="The account the problem applies to, for per-account checks."
    )
    limit = serializers.IntegerField(required=False, help_text="The platform's limit.")
    measured = serializers.IntegerField(required=False, help_text="What the input measured.")
    severity = serializers.CharField(
        required=False, help_text="`error` (blocks the post) or `warning`."
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    code = serializers.CharField(
        help_text="A stable machine-readable code: `invalid`, `not_found`, `throttled`, ..."
    )
    message = serializers.CharField(help_text="The first (or only) problem, for people.")
    field = serializers.CharField(
        allow_null=True, help_text="The input the first problem concerns; null if none."
    )
    errors = ProblemSerializer(many=True, help_text="Every problem found, not just the first.")
    retry_after = serializers.IntegerField(
        required=False, help_text="On 429 only: seconds to wait before trying again."
    )


def flatten(detail: Any, field: str = "") -> list[dict[str, Any]]:
    """Return DRF's nested validation detail as a flat list of {code, message, field}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            out.extend(flatten(value, child_path(field, key)))
        return out

    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list) and not isinstance(value, str)
            out.extend(flatten(value, f"{field}[{index}]" if nested else field))
        return out

    entry = {"code": getattr(detail, "code", "invalid"), "message": str(detail)}
    if field:
        entry["field"] = field
    return [entry]


def child_path(field: str, key: Any) -> str:
    """Return the path of a nested error: `media[0].id`, `platform_content.12.text`.

    DRF reports list items by integer position and dict entries by their (string) key.
    """
    if key == "non_field_errors":
        return field
    if isinstance(key, int):
        return f"{field}[{key}]"
    return f"{field}.{key}" if field else str(key)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler, answering in the one error shape."""
    if isinstance(exc, HayonError):
        body = exc.as_dict()
        body.setdefault("field", None)
        return Response(body, status=exc.status_code)

    if isinstance(exc, RequestDataTooBig):
        return too_large()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        # A field the endpoint does not take goes first: a misspelt name is the likeliest
        # cause of the other problems (a missing required field, a default taken).
        errors = sorted(flatten(exc.detail), key=lambda e: e["code"] != UNKNOWN_FIELD)
        first = errors[0] if errors else {"code": "invalid", "message": "Invalid input."}
        response.data = {
            "code": UNKNOWN_FIELD if first.get("code") == UNKNOWN_FIELD else "invalid",
            "message": first["message"],
            "field": first.get("field"),
            "errors": errors,
        }
        return response

    code = error_code(exc)
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    body = {
        "code": code,
        "message": str(detail),
        "field": None,
        "errors": [{"code": code, "message": str(detail)}],
    }
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and getattr(exc, "wait", None):
        body["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    return response


def error_code(exc: Exception) -> str:
    # DRF turns Django's Http404 and PermissionDenied into its own errors before answering;
    # give them the codes of those errors so a client sees one code per situation.
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    return getattr(getattr(exc, "detail", None), "code", None) or "error"


def too_large() -> Response:
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, which Django answers with an HTML 400."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than {limit} bytes, the most this server takes."
    return Response(shaped("request_too_large", message), status=413)


def shaped(code: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "field": None,
        "errors": [{"code": code, "message": message}],
    }


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL under /api/ that matches no endpoint answers in the error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(shaped("not_found", "No such endpoint or object."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API answers even a crash in the error shape; the traceback is logged."""
    if request.path.startswith("/api/"):
        message = "Something went wrong on our side; it has been logged."
        return JsonResponse(shaped("server_error", message), status=500)
    return defaults.server_error(request)
