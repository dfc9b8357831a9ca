"""POST /api/v1/leads/{id}/qualify: BANT answers in, the lead and the outcome out."""

from rest_framework import serializers

from ..qualification import CRITERIA
from .serializers import LeadDetailSerializer


class CriterionSerializer(serializers.Serializer):
    met = serializers.BooleanField(help_text="Whether the lead meets this criterion.")
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000,
                                   help_text='What was learnt, e.g. "50k approved for Q3".')


class QualifySerializer(serializers.Serializer):
    budget = CriterionSerializer()
    authority = CriterionSerializer()
    need = CriterionSerializer()
    timeline = CriterionSerializer()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    keep_open = serializers.BooleanField(
        required=False, default=False,
        help_text="With unmet criteria, keep the lead open (status unchanged) instead of disqualifying it.",
    )

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
    """The lead's detail, plus the answers just recorded and the criteria not met."""

    qualification = QualificationSerializer(read_only=True)
    unmet = serializers.SerializerMethodField()

    class Meta(LeadDetailSerializer.Meta):
        fields = [*LeadDetailSerializer.Meta.fields, "unmet"]
        read_only_fields = fields

    def get_unmet(self, lead) -> list[str]:
        return list((lead.qualification or {}).get("unmet", []))
