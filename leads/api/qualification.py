"""POST /api/v1/leads/{id}/qualify: BANT answers in, the lead and the outcome out."""

from rest_framework import serializers

from ..qualification import CRITERIA
from .serializers import LeadDetailSerializer


class CriterionSerializer(serializers.Serializer):
    met = serializers.BooleanField(help_text="Whether the lead meets this criterion.")
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000,
                                   help_text='What was learnt, e.g. "50k approved for Q3".')


# Document 001's names for the answers (`{"hasBudget": true, ...}`): aliases of ours, met or not, without a detail.
ALIASES = {"budget": "hasBudget", "authority": "hasAuthority", "need": "hasNeed", "timeline": "hasTimeline"}


class QualifySerializer(serializers.Serializer):
    """Each criterion as `budget: {met, detail}`, or as its alias `hasBudget: true|false` (document 001)."""

    budget = CriterionSerializer(required=False, help_text="Or send hasBudget.")
    authority = CriterionSerializer(required=False, help_text="Or send hasAuthority.")
    need = CriterionSerializer(required=False, help_text="Or send hasNeed.")
    timeline = CriterionSerializer(required=False, help_text="Or send hasTimeline.")
    hasBudget = serializers.BooleanField(required=False, help_text="Alias of budget.met (document 001).")  # noqa: N815
    hasAuthority = serializers.BooleanField(required=False, help_text="Alias of authority.met.")  # noqa: N815
    hasNeed = serializers.BooleanField(required=False, help_text="Alias of need.met.")  # noqa: N815
    hasTimeline = serializers.BooleanField(required=False, help_text="Alias of timeline.met.")  # noqa: N815
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    keep_open = serializers.BooleanField(
        required=False, default=False,
        help_text="With unmet criteria, keep the lead open (status unchanged) instead of disqualifying it.",
    )

    def validate(self, attrs):
        errors = {}
        for name, alias in ALIASES.items():
            answer, met = attrs.get(name), attrs.pop(alias, None)
            if answer is None and met is None:
                errors[name] = [f'Answer {name} ({{"met": true|false}}), or send {alias}: true|false.']
            elif answer is None:
                attrs[name] = {"met": met, "detail": ""}
            elif met is not None and met != answer["met"]:
                errors[alias] = [f"Contradicts {name}.met; send one of them."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def answers(self) -> dict:
        return {name: self.validated_data[name] for name in CRITERIA}


class CriterionAnswerSerializer(serializers.Serializer):
    met = serializers.BooleanField()
    detail = serializers.CharField()


class AnswersSerializer(serializers.Serializer):
    budget = CriterionAnswerSerializer()
    authority = CriterionAnswerSerializer()
    need = CriterionAnswerSerializer()
    timeline = CriterionAnswerSerializer()


class QualificationSerializer(serializers.Serializer):
    """What Lead.qualification holds: the latest BANT check."""

    answers = AnswersSerializer()
    notes = serializers.CharField()
    unmet = serializers.ListField(child=serializers.ChoiceField(choices=CRITERIA))
    outcome = serializers.ChoiceField(choices=["qualified", "disqualified", "kept_open"])
    answered_by = serializers.UUIDField(allow_null=True, help_text="The user's id.")
    answered_by_name = serializers.CharField()
    answered_at = serializers.DateTimeField()


class QualifiedLeadSerializer(LeadDetailSerializer):
    """The lead's detail, plus the answers just recorded, the criteria not met and whether it qualified."""

    qualification = QualificationSerializer(read_only=True)
    unmet = serializers.SerializerMethodField()
    qualified = serializers.SerializerMethodField(help_text="Whether all four criteria were met (document 001's answer).")

    class Meta(LeadDetailSerializer.Meta):
        fields = [*LeadDetailSerializer.Meta.fields, "unmet", "qualified"]
        read_only_fields = fields

    def get_unmet(self, lead) -> list[str]:
        return list((lead.qualification or {}).get("unmet", []))

    def get_qualified(self, lead) -> bool:
        return (lead.qualification or {}).get("outcome") == "qualified"
