"""Domain errors that become one JSON shape in the API (see hayon/api_errors.py)."""

from typing import Any


class HayonError(Exception):
    """A refusal with a stable code, a message for people and, where it applies, a field."""

    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field
        self.errors = errors or []

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body["errors"] = self.errors or [
            {k: v for k, v in body.items() if k in ("code", "message", "field")}
        ]
        return body


class Conflict(HayonError):
    status_code = 409
    code = "conflict"
