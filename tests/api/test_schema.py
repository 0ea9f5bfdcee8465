"""The OpenAPI schema as code generators and linters read it: strict OpenAPI 3.0, every
operation described in its own words, and only the responses an operation can give.
(.ci/openapi_check.py runs the linter and the client generator themselves.)"""

import pytest
from drf_spectacular.generators import SchemaGenerator

METHODS = {"get", "post", "put", "patch", "delete"}
SHARED_PLACEHOLDER = "Shared behaviour: the principal, scoped querysets, audited reads."


@pytest.fixture(scope="module")
def spec():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def walk(node):
    """Every schema object under node (nested properties, items, allOf/oneOf/anyOf...)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_only_the_idempotent_posts_document_a_reused_idempotency_key(spec):
    with_422 = {name for name, operation in operations(spec) if "422" in operation["responses"]}
    assert with_422 == {"POST /api/v1/plans/", "POST /api/v1/sessions/"}
    with_header = {
        name
        for name, operation in operations(spec)
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert with_header == with_422


def test_getting_a_token_needs_no_credentials_and_says_so(spec):
    assert spec["paths"]["/api/v1/auth/token/"]["post"]["security"] == []
    # Everything else names its schemes.
    for name, operation in operations(spec):
        if name != "POST /api/v1/auth/token/":
            assert operation["security"], name


def test_every_operation_has_its_own_description(spec):
    descriptions = {}
    for name, operation in operations(spec):
        description = operation.get("description", "").strip()
        assert description, f"{name} has no description"
        assert description != SHARED_PLACEHOLDER, name
        descriptions.setdefault(description, []).append(name)
    shared = {text: names for text, names in descriptions.items() if len(names) > 1}
    assert not shared


def test_the_schema_names_its_server_and_licence(spec):
    assert spec["servers"]
    assert all(server["url"] for server in spec["servers"])
    assert spec["info"]["license"]["name"]


def test_component_names_do_not_stutter(spec):
    names = spec["components"]["schemas"]
    assert "TokenRequestRequest" not in names
    assert not [name for name in names if name.endswith("RequestRequest")]


def test_a_nullable_schema_always_has_a_type(spec):
    # OpenAPI 3.0.3: `nullable` only adds null to a `type` beside it; without one (an allOf of
    # a $ref) a strict reader forbids the null that plans and sessions return.
    untyped = [node for node in walk(spec) if node.get("nullable") is True and "type" not in node]
    assert not untyped


def test_a_nullable_nested_object_admits_null_and_the_object(spec):
    schemas = spec["components"]["schemas"]
    for component, field, target in [
        ("Level", "interval", "Interval"),
        ("PrescribedLevel", "interval", "Interval"),
        ("LevelRequest", "interval", "IntervalRequest"),
        ("Session", "decision", "SessionDecision"),
    ]:
        prop = schemas[component]["properties"][field]
        ref, null = prop["oneOf"]
        assert ref == {"$ref": f"#/components/schemas/{target}"}
        assert null == {"type": "object", "nullable": True, "enum": [None]}
    assert schemas["Session"]["properties"]["decision"]["readOnly"] is True


def test_examples_conform_to_their_formats(spec):
    # DRF's cursor pagination example ends with a stray quote, not a URI.
    for node in walk(spec):
        if node.get("format") == "uri" and "example" in node:
            assert '"' not in node["example"]
