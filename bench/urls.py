"""The product's URLs plus /bench/bare-leads: a plain DRF ModelSerializer create, the baseline."""

from django.urls import include, path
from rest_framework import generics, permissions, serializers

from leads.models import Channel, Lead


class BareLeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "email", "company", "utm_source"]


class BareLeadCreate(generics.CreateAPIView):
    """What a minimal DRF endpoint does: validate, INSERT, answer. No dedupe, timeline, events or scoring."""

    serializer_class = BareLeadSerializer
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def perform_create(self, serializer):
        channel = Channel.objects.select_related("tenant").get(form_key=self.request.headers["X-Form-Key"])
        serializer.save(tenant=channel.tenant, channel=channel)


urlpatterns = [
    path("bench/bare-leads", BareLeadCreate.as_view()),
    path("", include("crm.urls")),
]
