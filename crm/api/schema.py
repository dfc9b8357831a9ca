"""The OpenAPI schema's shared parts: CRUD summaries, and the error answers every endpoint can give.

Errors are added by a post-processing hook rather than per view, so no endpoint can forget one
and they all share two shapes: `ErrorDetail` ({"detail": "..."}) and `FieldErrors`
({"field": ["message", ...]}, or {"detail": "..."} for a body that is not JSON at all).
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from .fields import UUID_PATTERN

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Each bad field (or filter) with its messages; `detail` when the body could not be read.",
    "additionalProperties": True,
    "example": {"email": ["Enter a valid email address."]},
}
ERROR_DESCRIPTIONS = {
    "400": "Bad input: each bad field with its messages.",
    "401": "No credentials, or a bad token or form key.",
    "403": "Signed in but not allowed (no workspace, or not your row to change).",
    "404": "No such row in your workspace (or a page past the end of a list).",
    "409": "The row's state forbids this (the detail says why), or a concurrent change got there first.",
    "412": "If-Match named a version the row has moved past: read it again (its ETag) and reapply the change.",
    "413": "The request body is too large.",
    "422": "An Idempotency-Key reused with a different body.",
    "429": "Too many requests from this client (form submissions, or failed token attempts); see Retry-After.",
}
BODY_METHODS = {"post", "put", "patch"}
CAPTURE_ERRORS = ("409", "413", "422", "429")


IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="The ETag you read; the change is refused with 412 if the row has changed since.",
)


def crud_schema(serializer, *, plural: str, edit_rule: str):
    """Summaries and descriptions of a list/create/retrieve/update viewset (errors come from the hook)."""
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            description="`{items, total, page, limit}`; `?page=&limit=` (limit up to 200), the filters below, `?ordering=`.",
            responses={200: serializer},
        ),
        create=extend_schema(
            summary=f"Create one of the {plural}",
            description="Created in your workspace; every related row named in the body must be in it too.",
            responses={201: serializer},
        ),
        retrieve=extend_schema(
            summary=f"One of the {plural}", description="404 for rows of another workspace.", responses={200: serializer}
        ),
        update=extend_schema(
            summary=f"Replace one of the {plural}", description=edit_rule, responses={200: serializer},
            parameters=[IF_MATCH],
        ),
        partial_update=extend_schema(
            summary=f"Change some fields of one of the {plural}", description=edit_rule, responses={200: serializer},
            parameters=[IF_MATCH],
        ),
    )


# Answers that are one of several shapes which overlap (a lead also has a receipt's id, name, email, status and
# created_at): any of them, not exactly one, is what a client gets.
OVERLAPPING_ALTERNATIVES = ("CaptureCreated", "CaptureMatched")


def overlapping_alternatives(result, generator, request, public):
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS entry: `anyOf` for the OVERLAPPING_ALTERNATIVES components."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in OVERLAPPING_ALTERNATIVES:
        if "oneOf" in schemas.get(name, {}):
            schemas[name]["anyOf"] = schemas[name].pop("oneOf")
    return result


def document_errors(result, generator, request, public):
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS entry: error answers on every API operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = ERROR_DETAIL
    schemas["FieldErrors"] = FIELD_ERRORS
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            _uuid_path_ids(operation)
            codes = {"400", "401", "403", "404", "429"}  # 429: after repeated bad tokens (crm/api/authentication.py)
            if method in BODY_METHODS:
                codes |= {"409", "413"}
            if method in {"put", "patch"} and any(p.get("name") == "If-Match" for p in operation.get("parameters", [])):
                codes.add("412")
            if method == "post" and path.rstrip("/") == "/api/v1/leads":
                codes |= set(CAPTURE_ERRORS)
            else:
                _json_only(operation)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes | {c for c in responses if c[0] == "4"}):
                ref = "FieldErrors" if code == "400" else "ErrorDetail"
                described = responses.get(code, {}).get("description") or ERROR_DESCRIPTIONS.get(code, "Error")
                responses[code] = {
                    "description": described,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
                }
            # The web server's own answer, before the app sees the request: a request line over its limit
            # (gunicorn's default is 4,094 bytes; long filters or repeated parameters get there).
            responses["414"] = {
                "description": "URI too long: the request line is over the web server's limit.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
    for name, schema in schemas.items():
        _allow_empty_urls(schema)
        if name.endswith("Request"):  # what clients send; stored values may predate a rule
            _state_shapes(schema)
    return result


# Text the serializers check in code (validate_<field>), by field name: the same rule wherever the name appears.
SHAPES = {
    "country": {"pattern": "^([A-Za-z]{2})?$", "description": "ISO 3166 alpha-2 code, e.g. DE (uppercased)."},
    "currency": {"pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 code, e.g. EUR (uppercased)."},
    "domain": {
        "pattern": r"^(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})?$",
        "description": "A host name, e.g. acme.com: lowercased, without www; taken from the website when not given.",
    },
}


def _state_shapes(schema: dict) -> None:
    for name, prop in schema.get("properties", {}).items():
        shape = SHAPES.get(name)
        if shape and prop.get("type") == "string" and not prop.get("readOnly") and "enum" not in prop:
            prop.setdefault("pattern", shape["pattern"])
            prop.setdefault("description", shape["description"])


def _uuid_path_ids(operation: dict) -> None:
    # A row in a path is named by its public id (crm.api.tenancy): the routers' regex is a UUID's.
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and parameter.get("schema", {}).get("pattern") == f"^{UUID_PATTERN}$":
            parameter["schema"] = {"type": "string", "format": "uuid"}
            parameter.setdefault("description", "The row's id (a UUID); an integer is not an id here (404).")


def _json_only(operation: dict) -> None:
    # Integrators send JSON; forms post only to capture. A form body cannot carry the nested objects
    # some operations take (qualify's answers), so documenting it would promise what cannot work.
    content = operation.get("requestBody", {}).get("content")
    if content and "application/json" in content:
        for media_type in [m for m in content if m != "application/json"]:
            del content[media_type]


def _allow_empty_urls(schema: dict) -> None:
    # URL and email fields are optional and stored as "" when absent, which is not a valid "uri" or
    # "email" (a lead reached by phone only reads back with an empty email).
    for prop in schema.get("properties", {}).values():
        if prop.get("format") in ("uri", "email"):
            prop["anyOf"] = [{"format": prop.pop("format")}, {"maxLength": 0}]


# --- the limits the serializers check in code, stated in the schema so clients (and the fuzzer) can read them

BIGINT_MAX = 2**63 - 1


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal that may not be negative (min_value >= 0): its pattern drops the leading minus."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        min_value = self.target.min_value
        if min_value is not None and min_value >= 0 and schema.get("pattern", "").startswith("^-?"):
            schema["pattern"] = "^" + schema["pattern"][3:]
            schema.setdefault("description", "Not negative.")
        return schema


class PublicIdRelatedExtension(OpenApiSerializerFieldExtension):
    """A related row's id: its public id, a UUID (issue 13)."""

    target_class = "crm.api.fields.PublicIdRelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema.pop("pattern", None)
        return {**schema, "type": "string", "format": "uuid"}


class RelatedIdExtension(OpenApiSerializerFieldExtension):
    """A related row without a public id (a lead's channel): a positive bigint."""

    target_class = "rest_framework.relations.PrimaryKeyRelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if schema.get("type") == "integer" and not self.target.read_only:
            schema.update(minimum=1, maximum=BIGINT_MAX)
        return schema


class EmailFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "crm.api.fields.EmailField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "format": "email"}  # drf-spectacular adds the blank option (a person may have no email)


class PhoneFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "crm.api.fields.PhoneField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            return schema
        # Checked with the phonenumbers library (a possible number for its country); the pattern is the shape.
        return {**schema, "pattern": r"^(\+|00)?[0-9][0-9 ()./-]{5,38}$"}

