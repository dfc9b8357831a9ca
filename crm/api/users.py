"""`/api/v1/users`: the workspace's people, to assign work to; managers and admins create and change them.

The door parses and renders; the rules (who may create or change whom, validation, deactivation) are
crm.users' and crm.access's.
"""

from __future__ import annotations

from typing import cast

import django_filters
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import access
from ..choices import Role
from ..models import User
from ..users import CAPACITY_MAX, user_create, user_deactivate, user_update
from .fields import EmailField
from .serializers import PublicIdModelSerializer
from .tenancy import HasTenant, TenantScopedMixin
from .viewsets import AuditedReadMixin, StableOrderingFilter


class UserSerializer(PublicIdModelSerializer):
    name = serializers.SerializerMethodField(help_text="First and last name; the username when neither is set.")
    email = EmailField(required=True, allow_blank=False, help_text="Stored lowercased; lead notifications go here.")
    role = serializers.ChoiceField(
        choices=Role.choices, default=Role.REP,
        help_text="Managers create reps; tenant admins any role. Nobody changes their own role.",
    )
    is_available = serializers.BooleanField(
        default=True, help_text="false: away (leave, holiday); routing gives them no new leads until true again.",
    )
    lead_capacity = serializers.IntegerField(
        allow_null=True, required=False, min_value=0, max_value=CAPACITY_MAX,
        help_text="Most open leads routing gives this person; null for no limit.",
    )
    is_active = serializers.BooleanField(
        required=False, default=True,
        help_text="false: deactivated (never deleted): cannot sign in, API tokens revoked, no new leads.",
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_null=True, max_length=128, style={"input_type": "password"},
        trim_whitespace=False,
        help_text="Write-only; checked against the password rules. Omitted on create: no password sign-in until one is set.",
    )

    class Meta:
        model = User
        fields = [
            "id", "username", "name", "first_name", "last_name", "email", "role", "is_available", "lead_capacity",
            "is_active", "password", "last_assigned_at", "date_joined",
        ]
        read_only_fields = ["last_assigned_at", "date_joined"]
        extra_kwargs = {
            "username": {"validators": []},  # uniqueness is the service's check (a 400 naming the field)
            "first_name": {"required": False},
            "last_name": {"required": False},
        }

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["username"].read_only = True  # a username is for good: tokens, logs and people know it
        return fields


class UserUpdateSerializer(UserSerializer):
    """PATCH: every field optional, the username fixed."""

    class Meta(UserSerializer.Meta):
        read_only_fields = ["username", "last_assigned_at", "date_joined"]


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.MultipleChoiceFilter(choices=Role.choices, help_text="Repeat for several roles.")
    is_available = django_filters.BooleanFilter(help_text="true: available for new leads; false: away.")
    active = django_filters.BooleanFilter(field_name="is_active", help_text="true: active users; false: deactivated.")
    search = django_filters.CharFilter(method="filter_search", help_text="Every word matches a name, username or email.")

    class Meta:
        model = User
        fields = ["role", "is_available", "active", "search"]

    def filter_search(self, queryset, name, value: str):
        for term in value.split():
            queryset = queryset.filter(
                Q(username__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
                | Q(email__icontains=term)
            )
        return queryset


EDIT_RULE = (
    "Managers change reps, tenant admins anyone of the workspace (403 otherwise). Anyone may change their own "
    "`is_available` and names; nobody their own role or `is_active`. `is_active: false` deactivates (never a delete)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List the workspace's users",
        description="`{items, total, page, limit}`; everyone may list (to pick an owner when assigning). "
        "Filters: `role`, `is_available`, `active`, `search`; `?ordering=`.",
    ),
    create=extend_schema(
        summary="Create a user",
        description="Managers create reps; tenant admins reps, managers and admins (403 otherwise). The username "
        "is unique across the installation; the password is write-only and checked against the password rules.",
        responses={201: UserSerializer},
    ),
    retrieve=extend_schema(summary="One user of the workspace", description="404 for another workspace's users."),
    partial_update=extend_schema(summary="Change a user", description=EDIT_RULE, request=UserUpdateSerializer,
                                 responses={200: UserSerializer}),
)
class UserViewSet(
    AuditedReadMixin,  # colleagues' names and emails are personal data too: lists and detail reads are recorded
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_classes = [HasTenant]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["username", "first_name", "last_name", "email", "role", "date_joined", "last_assigned_at"]
    ordering = ["username"]
    http_method_names = ["get", "post", "patch", "head", "options"]  # no PUT, no DELETE: users are deactivated

    def get_queryset(self):
        user = cast(User, self.request.user)
        people = User.objects.filter(tenant=user.tenant, is_superuser=False)  # HasTenant: the caller has one
        return access.visible(user, people).order_by("username", "id")

    def get_serializer_class(self):
        return UserUpdateSerializer if self.action == "partial_update" else UserSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("is_active", None)  # a new user is active
        actor = cast(User, self.request.user)  # HasTenant: signed in, with a workspace
        assert actor.tenant is not None
        serializer.instance = user_create(tenant=actor.tenant, actor=actor, **data)

    def perform_update(self, serializer):
        serializer.instance = user_update(
            user=serializer.instance, actor=cast(User, self.request.user), changes=serializer.validated_data
        )

    @extend_schema(summary="Who you are", description="Your own user, as listed.", responses={200: UserSerializer})
    @action(detail=False, methods=["get"])
    def me(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Deactivate a user",
        description="Same as `PATCH {\"is_active\": false}`: the user cannot sign in, their API tokens are revoked and "
        "routing gives them no new leads; their leads stay theirs until reassigned. Never a delete.",
        request=None,
        responses={200: UserSerializer, 403: OpenApiResponse(description="Not a user you manage, or yourself")},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = user_deactivate(user=self.get_object(), actor=request.user)
        return Response(UserSerializer(user).data, status=status.HTTP_200_OK)
