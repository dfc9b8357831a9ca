"""Error answers spelled out in the OpenAPI schema, shared by every viewset."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


FIELD_ERRORS = OpenApiResponse(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"email": ["A contact with this email already exists."]},
    },
    description="Bad input: each bad field (or bad filter) with its messages.",
)
NOT_SIGNED_IN = OpenApiResponse(ErrorDetailSerializer, description="No or bad credentials.")
FORBIDDEN = OpenApiResponse(ErrorDetailSerializer, description="Not allowed (no workspace, or not your row to edit).")
NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="No such row in your workspace.")
CONFLICT = OpenApiResponse(ErrorDetailSerializer, description="A concurrent change got there first; reload and retry.")


def crud_schema(serializer, *, plural: str, edit_rule: str):
    """The schema of a list/create/retrieve/update viewset, with the error answers spelled out."""
    auth_errors = {401: NOT_SIGNED_IN, 403: FORBIDDEN}
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            description="`{items, total, page, limit}`; `?page=&limit=` (limit up to 200), the filters below, `?ordering=`.",
            responses={200: serializer, 400: FIELD_ERRORS, **auth_errors},
        ),
        create=extend_schema(
            summary=f"Create one of the {plural}",
            description="Created in your workspace; every related row named in the body must be in it too.",
            responses={201: serializer, 400: FIELD_ERRORS, 409: CONFLICT, **auth_errors},
        ),
        retrieve=extend_schema(
            summary=f"One of the {plural}",
            description="404 for rows of another workspace.",
            responses={200: serializer, 404: NOT_FOUND, **auth_errors},
        ),
        update=extend_schema(
            summary=f"Replace one of the {plural}",
            description=edit_rule,
            responses={200: serializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: CONFLICT, **auth_errors},
        ),
        partial_update=extend_schema(
            summary=f"Change some fields of one of the {plural}",
            description=edit_rule,
            responses={200: serializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: CONFLICT, **auth_errors},
        ),
    )
