import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q

from .choices import LeadSource, LeadStatus, ScoreBand
from .models import Lead


class LeadFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    score_band = django_filters.MultipleChoiceFilter(choices=ScoreBand.choices)
    owner = django_filters.CharFilter(
        method="filter_owner",
        help_text='A user id, "me", or "none" for unassigned.',
        validators=[RegexValidator(r"^(\d+|me|none)$", 'Give a user id, "me" or "none".')],
    )
    unassigned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull")
    score_min = django_filters.NumberFilter(field_name="score_total", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score_total", lookup_expr="lte")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    campaign = django_filters.CharFilter()
    search = django_filters.CharFilter(method="filter_search", help_text="Name, email, company or phone.")
    ordering = django_filters.OrderingFilter(
        fields=["created_at", "score_total", "last_activity_at", "status", "last_name", "company", "updated_at"]
    )

    class Meta:
        model = Lead
        fields = []

    def filter_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=int(value))

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
