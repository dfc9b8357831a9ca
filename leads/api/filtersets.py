import django_filters
from django.db.models import Q

from crm.api.filters import DateTimeFilter, OwnerFilter
from leads.choices import LeadSource, LeadStatus, ScoreBand
from leads.models import Lead

from .stage_fields import StageFilter


class LeadFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    stage = StageFilter()
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    score_band = django_filters.MultipleChoiceFilter(choices=ScoreBand.choices)
    owner = OwnerFilter(field_name="owner")
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
