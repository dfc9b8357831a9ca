import operator
from functools import reduce

import django_filters
from django.db.models import Q

from contacts.choices import DealStage
from crm.api.filters import DateTimeFilter, OwnerFilter
from leads.choices import SOURCE_ALIASES, LeadSource, LeadStatus, PipelineStatus, ScoreBand
from leads.models import Lead

from .serializers import STATUS_CHOICES
from .stage_fields import StageFilter

# Document 002's statuses past qualified are a converted lead's deal stage (leads/pipeline.py).
_DEAL_STATUS_STAGES = {
    PipelineStatus.PROPOSAL: [DealStage.PROPOSAL, DealStage.NEGOTIATION],
    PipelineStatus.CLOSED_WON: [DealStage.CLOSED_WON],
    PipelineStatus.CLOSED_LOST: [DealStage.CLOSED_LOST],
}


def _status_match(value: str) -> Q:
    if value in _DEAL_STATUS_STAGES:
        return Q(status=LeadStatus.CONVERTED, converted_deal__stage__in=_DEAL_STATUS_STAGES[PipelineStatus(value)])
    return Q(status=value)


class LeadFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status",
        help_text="Ours, or document 002's proposal, closed_won, closed_lost (a converted lead's deal stage; "
        "converted matches every converted lead).",
    )
    stage = StageFilter()
    source = django_filters.MultipleChoiceFilter(
        choices=[*LeadSource.choices, *[(alias, f"{alias} (= {ours})") for alias, ours in SOURCE_ALIASES.items()]],
        method="filter_source", help_text="website is document 002's name for website_form.",
    )
    score_band = django_filters.MultipleChoiceFilter(choices=ScoreBand.choices)
    owner = OwnerFilter(field_name="owner")
    assigned_to = OwnerFilter(field_name="owner", help_text="The same as owner (document 002's name).")
    unassigned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull")
    score_min = django_filters.NumberFilter(field_name="score_total", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score_total", lookup_expr="lte")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    campaign = django_filters.CharFilter()
    search = django_filters.CharFilter(method="filter_search", help_text="Name, email, company or phone.")
    ordering = django_filters.OrderingFilter(
        fields=["created_at", "score_total", "last_activity_at", "status", "last_name", "company", "updated_at"]
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_status(self, queryset, name, values):
        return queryset.filter(reduce(operator.or_, map(_status_match, values))) if values else queryset

    def filter_source(self, queryset, name, values):
        return queryset.filter(source__in={SOURCE_ALIASES.get(value, value) for value in values}) if values else queryset

    def filter_search(self, queryset, name, value):
        terms = value.split()
        for term in terms:
            digits = "".join(ch for ch in term if ch.isdigit())
            match = (
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(company__icontains=term)
            )
            if len(digits) >= 4:
                match |= Q(phone__contains=digits)
            queryset = queryset.filter(match)
        return queryset
