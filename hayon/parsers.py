"""The API's JSON parser: a body too deep to read is a parse error (400), not a crash (500)."""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # Python's json module recurses once per nested array or object and gives up
            # near the interpreter's limit (about 1000 levels); no request nests that deep.
            raise ParseError(
                "JSON parse error - the body nests arrays or objects too deeply"
            ) from exc
