from rest_framework import serializers


class PredictionFactorSerializer(serializers.Serializer):
    feature = serializers.CharField(help_text="The model's feature, e.g. industry, activity:demo_requested, custom:plan.")
    description = serializers.CharField(help_text="This lead's value in words, e.g. '3 demo requests'.")
    contribution = serializers.FloatField(help_text="Log-odds it adds (+) or takes away (-) against the average lead.")


class LeadAnalysisSerializer(serializers.Serializer):
    lead_id = serializers.UUIDField(source="lead_public_id")
    probability = serializers.FloatField(help_text="Predicted chance (0-1) that the lead converts.")
    score = serializers.FloatField(
        source="probability", help_text="Document 004's name for `probability` (the same value); kept on the lead as "
        "`ai_score`.",
    )
    recommendation = serializers.CharField(help_text="transfer_to_sales, continue_qualification or drop_lead.")
    reason = serializers.CharField(help_text="The top factors, or why the rule score was used instead.")
    model_version = serializers.CharField(help_text="The model's version, or 'rules' for the rule-score fallback.")
    fallback = serializers.BooleanField(help_text="True when the tenant has no learned model yet.")
    predicted_at = serializers.DateTimeField()
    factors = PredictionFactorSerializer(many=True, help_text="The largest contributions; empty for the fallback.")
