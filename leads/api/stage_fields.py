"""Document 004's lead fields on our lead API, beside our own names (both documented in the schema).

| document 004       | ours                                  |
| ------------------ | ------------------------------------- |
| stage              | status (transferred = converted, lost = disqualified) |
| business_domain    | industry (writable under either name) |
| activity_count     | interactions on the lead's timeline   |
| ai_score           | probability                           |
| ai_recommendation  | recommendation                        |
| ai_reason          | recommendation_reason                 |

Kept apart from serializers.py, which mixes these in, so the two contracts' additions do not collide.
"""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers

from ..choices import Recommendation
from ..models import Lead
from ..stages import STAGE_OF_STATUS, STATUS_OF_STAGE, LeadStage, activity_count

INDUSTRY_MAX_LENGTH = Lead._meta.get_field("industry").max_length


class StageField(serializers.ChoiceField):
    """The lead's status in document 004's words (read-only)."""

    def __init__(self, **kwargs: Any):
        super().__init__(choices=LeadStage.choices, source="status", read_only=True, **kwargs)

    def to_representation(self, value: str) -> str:
        return STAGE_OF_STATUS[value]


class NullWhenBlankMixin:
    """Document 004 reads null for what was never set; our columns hold an empty string."""

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)  # type: ignore[misc]


class NullWhenBlankCharField(NullWhenBlankMixin, serializers.CharField):
    pass


class NullWhenBlankChoiceField(NullWhenBlankMixin, serializers.ChoiceField):
    pass


class LeadStageFieldsMixin(serializers.Serializer):
    """Mixed into LeadSerializer: document 004's read fields, on every answer that shows a lead."""

    stage = StageField(
        help_text="Document 004's name for the status: new, contacted, qualified, transferred (converted: handed "
        "to sales, its deal is the Sale) or lost (disqualified). Change it with PATCH /leads/{id}/stage."
    )
    business_domain = NullWhenBlankCharField(
        source="industry", read_only=True, allow_null=True,
        help_text="Document 004's name for `industry` (null when unknown). The strict pipeline hands a lead to "
        "sales only when it is known.",
    )
    activity_count = serializers.SerializerMethodField(
        help_text="Interactions on the lead's timeline: notes, calls, emails, meetings, tasks and tracked "
        "behaviour (form submissions, email opens and clicks, page views, demo requests); not the CRM's own entries."
    )
    ai_score = serializers.FloatField(
        source="probability", read_only=True, allow_null=True, min_value=0, max_value=1,
        help_text="Document 004's name for `probability`: the predicted chance (0-1) that the lead converts, "
        "from POST /leads/{id}/analyze; null until analyzed.",
    )
    ai_recommendation = NullWhenBlankChoiceField(
        source="recommendation", choices=Recommendation.choices, read_only=True, allow_null=True,
        help_text="Document 004's name for `recommendation`; null until analyzed.",
    )
    ai_reason = NullWhenBlankCharField(
        source="recommendation_reason", read_only=True, allow_null=True,
        help_text="Document 004's name for `recommendation_reason`: why; null until analyzed.",
    )

    STAGE_FIELDS = ("stage", "business_domain", "activity_count", "ai_score", "ai_recommendation", "ai_reason")

    def get_field_names(self, declared_fields, info):
        names = list(super().get_field_names(declared_fields, info))  # type: ignore[misc]  # a ModelSerializer's
        return [*names, *(name for name in self.STAGE_FIELDS if name not in names)]

    def get_activity_count(self, lead: Lead) -> int:
        return activity_count(lead)


class BusinessDomainInputMixin(serializers.Serializer):
    """Mixed into the lead's writable fields (capture, PATCH): `business_domain` is taken as `industry`.

    Listed in the serializer's Meta.fields, which capture also reads to tell known fields from custom ones."""

    business_domain = serializers.CharField(
        required=False, allow_blank=True, write_only=True, max_length=INDUSTRY_MAX_LENGTH,
        help_text="Document 004's name for `industry`; send either (the same value if both).",
    )

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if "business_domain" not in attrs:
            return attrs
        domain = attrs.pop("business_domain")
        if "industry" in attrs and attrs["industry"].strip() != domain.strip():
            raise serializers.ValidationError(
                {"business_domain": ["business_domain is another name for industry; send one, or the same value."]}
            )
        attrs["industry"] = domain
        return attrs


class StageFilter(django_filters.MultipleChoiceFilter):
    """`?stage=` in document 004's words, on the lead's status (repeat for several)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("help_text", "Document 004's stage (new, contacted, qualified, transferred, lost); "
                                       "repeat for several.")
        super().__init__(choices=LeadStage.choices, field_name="status", **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, [STATUS_OF_STAGE[stage] for stage in value or ()])
