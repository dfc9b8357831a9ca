"""`/api/v1/channels`: a workspace admin's channels (website form, Facebook Lead Ads, Google lead form)."""

from typing import cast

from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from crm.api.fields import UUID_PATTERN
from crm.api.schema import crud_schema
from crm.api.serializers import PublicIdModelSerializer
from crm.api.tenancy import HasTenant
from crm.choices import Role
from crm.models import User
from leads.channels import callback_path, channel_create, channel_update
from leads.models import Channel, mask_secret


class IsWorkspaceAdmin(BasePermission):
    message = "Only your workspace's admins manage channels."

    def has_permission(self, request, view):
        return request.user.is_superuser or request.user.role == Role.ADMIN


class SecretField(serializers.CharField):
    """Write-only in substance: read back masked ("••••1234"); empty or left out keeps the stored secret."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, max_length=kwargs.pop("max_length", 255), **kwargs)

    def to_representation(self, value):
        return mask_secret(value)


class ChannelSerializer(PublicIdModelSerializer):
    key = serializers.CharField(source="form_key", read_only=True,
                                help_text="The channel's public key: a website form's X-Form-Key, a Google hook's URL.")
    app_secret = SecretField(help_text="Facebook app secret; write-only, read back masked.")
    page_access_token = SecretField(max_length=1000, help_text="Facebook page access token; write-only, read back masked.")
    google_key = SecretField(help_text="The key Google sends with each lead; write-only, read back masked.")
    callback_url = serializers.SerializerMethodField(help_text="Where the platform posts its leads (ad channels).")

    class Meta:
        model = Channel
        fields = [
            "id", "key", "name", "kind", "default_source", "default_owner", "allowed_origins", "rate_limit_per_hour",
            "is_active", "page_id", "verify_token", "app_secret", "page_access_token", "google_key", "field_mapping",
            "callback_url", "last_webhook_at", "last_error", "last_error_at", "blocked_count", "created_at",
        ]
        read_only_fields = ["last_webhook_at", "last_error", "last_error_at", "blocked_count", "created_at"]

    def get_callback_url(self, channel: Channel) -> str:
        path = callback_path(channel)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request is not None else path

    def validate_default_owner(self, value):
        if value is not None and value.tenant_id != self.context["request"].user.tenant_id:
            raise serializers.ValidationError("Not a member of your workspace.")
        return value

    def create(self, validated_data):
        user = cast(User, self.context["request"].user)
        assert user.tenant is not None  # HasTenant
        return channel_create(actor=user, tenant=user.tenant, values=validated_data)

    def update(self, instance, validated_data):
        return channel_update(actor=cast(User, self.context["request"].user), channel=instance, values=validated_data)


@crud_schema(
    ChannelSerializer, plural="channels",
    edit_rule="Secrets (`app_secret`, `page_access_token`, `google_key`) sent empty or left out keep their value.",
)
class ChannelViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
    mixins.DestroyModelMixin, viewsets.GenericViewSet,
):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    lookup_field, lookup_url_kwarg, lookup_value_regex = "public_id", "pk", UUID_PATTERN  # the API's ids (issue 13)
    permission_classes = [HasTenant, IsWorkspaceAdmin]

    def get_queryset(self):
        return Channel.objects.filter(tenant=cast(User, self.request.user).tenant).order_by("id")  # HasTenant
