"""Schema generation: every operation lists the errors it can answer with.

The errors all share one component (hayon.api_errors.ErrorSerializer), so a client handles
them in one place. Which statuses an operation lists follows from what it is: any
authenticated operation can answer 401, 403 and 429; one with an id in its path or a paged
list can answer 404; any change, and a read with query parameters, can answer 400 (and 415
for a body that is not JSON or a form, 413 for one too large); a change to an existing
object can answer 409.
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

from hayon.api_errors import ErrorSerializer
from hayon.serializers import StrictFields

ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `errors` lists every problem.",
    401: "No valid credentials: send `Authorization: Token <key>` or sign in.",
    403: "Not allowed, or a session request without a valid CSRF token.",
    404: "No such object among yours (other users' ids answer 404 too).",
    409: "The object's state does not allow this now (e.g. publishing already started).",
    413: "The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    415: "The body is not JSON or form data.",
    429: "Too many requests; wait for Retry-After seconds.",
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses

        for code in self.error_statuses():
            responses.setdefault(str(code), self.error_response(code))
        return responses

    def _map_basic_serializer(self, serializer, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        # Request bodies refuse fields they do not name (400 `unknown_field`).
        if direction == "request" and isinstance(serializer, StrictFields):
            schema["additionalProperties"] = False
        return schema

    def error_statuses(self) -> list[int]:
        authenticated = bool(self.view.get_authenticators())
        has_body = self.method in ("POST", "PUT", "PATCH") and self._has_request_body()
        # Services refuse with a 400 for reasons beyond the body (storage down, bad state
        # data), so any change may answer it; a read only when it takes query parameters.
        takes_input = self.method in UNSAFE or self._has_query_parameters()
        has_id = "{" in self.path
        paged = self._is_list_view() and self._get_paginator() is not None

        codes = [400] if takes_input else []
        if authenticated:
            codes += [401, 403]
        if has_id or paged:
            codes.append(404)
        if has_id and self.method in UNSAFE:
            codes.append(409)
        if has_body:
            codes += [413, 415]
        if self.view.get_throttles():
            codes.append(429)
        return codes

    def _has_request_body(self) -> bool:
        return self.get_request_serializer() is not None

    def _has_query_parameters(self) -> bool:
        if self.method != "GET":
            return False
        return bool(self._get_filter_parameters() or self._get_pagination_parameters())

    def error_response(self, code: int) -> dict[str, Any]:
        response: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {
                "application/json": {
                    "schema": self.resolve_serializer(ErrorSerializer, "response").ref
                }
            },
        }
        if code == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before the next request.",
                    "schema": build_basic_type(OpenApiTypes.INT),
                }
            }
        return response
