"""Every API error in one shape: {"code", "message", "field", "errors": [...]}.

`errors` lists every problem at once, each with its own code, message and field, so a client
can show them next to what caused them.
"""

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hayon.errors import HayonError


def flatten(detail: Any, field: str = "") -> list[dict[str, Any]]:
    """Return DRF's nested validation detail as a flat list of {code, message, field}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out.extend(flatten(value, f"{field}.{name}" if field and name else field or name))
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


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, HayonError):
        return Response(exc.as_dict(), status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        first = errors[0] if errors else {"code": "invalid", "message": "Invalid input."}
        body = {"code": "invalid", "message": first["message"], "errors": errors}
        if "field" in first:
            body["field"] = first["field"]
        response.data = body
        return response

    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    code = getattr(getattr(exc, "detail", None), "code", None) or "error"
    body = {
        "code": code,
        "message": str(detail),
        "errors": [{"code": code, "message": str(detail)}],
    }
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and getattr(exc, "wait", None):
        body["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    return response
