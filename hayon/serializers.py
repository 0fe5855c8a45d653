"""The base of every request body: a field the endpoint does not take is refused, not ignored.

A silently ignored field hides a client's mistake: `schedule_at` for `scheduled_at` would
publish at once a post meant for next month. Each serializer that reads a request body mixes
in StrictFields, nested ones (media items, per-account text) included.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

UNKNOWN_FIELD = "unknown_field"


class StrictFields:
    """Refuse, with code `unknown_field`, every key of the body that is not a field.

    `unknown_field_hints` maps a name a client may expect here to what to do instead.
    """

    unknown_field_hints: ClassVar[dict[str, str]] = {}

    def to_internal_value(self, data: Any) -> Any:
        unknown = self.unknown_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Listed first: a misspelt name is the likeliest cause of the other problems.
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def unknown_fields(self, data: Any) -> dict[str, list[ErrorDetail]]:
        if not isinstance(data, Mapping):
            return {}
        writable = self.writable_fields_names()
        return {
            str(name): [ErrorDetail(self.unknown_message(str(name)), code=UNKNOWN_FIELD)]
            for name in data
            if name not in writable
        }

    def writable_fields_names(self) -> list[str]:
        return [name for name, field in self.fields.items() if not field.read_only]

    def unknown_message(self, name: str) -> str:
        known = ", ".join(self.writable_fields_names())
        message = f"Unknown field {name!r}; this endpoint takes: {known}."
        hint = self.unknown_field_hints.get(name)
        return f"{message} {hint}" if hint else message


def strict(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """Return a subclass of serializer_class that refuses unknown fields."""
    if issubclass(serializer_class, StrictFields):
        return serializer_class
    return type(serializer_class.__name__, (StrictFields, serializer_class), {})


class TextField(serializers.CharField):
    """A CharField that takes only a JSON string: 5 is refused, not read as "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string", kind=type(data).__name__)
        return super().to_internal_value(data)

    default_error_messages = {"not_a_string": "Must be a string, not {kind}."}


class IdField(serializers.IntegerField):
    """An IntegerField that takes only a JSON integer: "1" and 1.0 are refused."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer", kind=type(data).__name__)
        return super().to_internal_value(data)

    default_error_messages = {"not_an_integer": "Must be an integer, not {kind}."}
