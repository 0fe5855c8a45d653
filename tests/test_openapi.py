"""The API describes itself: an OpenAPI 3 schema generated from the code at /api/schema/, a
Swagger UI page at /api/docs/ served without any CDN, every field described and every
operation listing the errors it can answer with, all in one shared shape."""

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path, operation


def test_the_schema_is_served_and_valid_openapi_3_without_warnings(alice_api, tmp_path):
    served = alice_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert served.status_code == 200
    assert served.json()["openapi"].startswith("3.")
    assert "/api/posts/{id}/duplicate/" in served.json()["paths"]
    # Validates against the OpenAPI 3 meta-schema and fails on any generator warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s"))


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(alice_api):
    page = Client().get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


def component_names() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(schema["components"]["schemas"])


@pytest.mark.parametrize("name", component_names())
def test_every_field_is_described(schema, name):
    component = schema["components"]["schemas"][name]

    undescribed = [
        field
        for field, spec in (component.get("properties") or {}).items()
        if not spec.get("description")
    ]

    assert undescribed == []


def test_every_operation_lists_its_errors_in_the_shared_shape(schema):
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        errors = {code: r for code, r in responses.items() if code.startswith("4")}

        assert "429" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if method != "GET":
            assert "400" in errors, (method, path)
        if path != "/api/auth/token/":
            assert {"401", "403"} <= set(errors), (method, path)
        for code, response in errors.items():
            schema_ref = response["content"]["application/json"]["schema"]["$ref"]
            assert schema_ref == ERROR_REF, (method, path, code)
        assert "Retry-After" in errors["429"]["headers"], (method, path)


def test_the_error_shape_is_documented_with_every_part(schema):
    error = schema["components"]["schemas"]["Error"]

    assert set(error["properties"]) == {"code", "message", "field", "errors", "retry_after"}
    assert set(error["required"]) == {"code", "message", "field", "errors"}
    assert error["properties"]["field"]["nullable"] is True


def test_every_operation_says_what_it_does(schema):
    silent = [
        (method, path)
        for method, path, operation in operations(schema)
        if not (operation.get("description") or operation.get("summary"))
        and method not in ("GET",)
    ]

    assert silent == []


def test_ids_in_paths_are_integers(schema):
    for _, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", (path, parameter["name"])
