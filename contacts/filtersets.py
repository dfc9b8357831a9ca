import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.api.filters import DateTimeFilter, IdFilter, OwnerFilter

from .choices import ContactStatus, DealStage
from .models import Company, Contact, Deal


@extend_schema_field(OpenApiTypes.INT)
def search_terms(queryset, value: str, fields: list[str]):
    """Every whitespace-separated term must match one of the fields (case-insensitive substring)."""
    for term in value.split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(match)
    return queryset


class CreatedRangeFilterSet(django_filters.FilterSet):
    created_after = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = DateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )


class ContactFilterSet(CreatedRangeFilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Name, email, phone or company name.")
    company = IdFilter(field_name="company")
    owner = OwnerFilter(field_name="owner")
    status = django_filters.MultipleChoiceFilter(
        choices=ContactStatus.choices, help_text="active, inactive or customer; repeat for several."
    )

    class Meta:
        model = Contact
        fields = ["search", "company", "owner", "status", "created_after", "created_before"]

    def filter_search(self, queryset, name, value: str):
        fields = ["first_name", "last_name", "email", "phone", "company__name"]
        return search_terms(queryset, value, fields)


class CompanyFilterSet(CreatedRangeFilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Name or domain.")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact", help_text="ISO 3166 alpha-2 code, e.g. DE.")
    owner = OwnerFilter(field_name="owner")

    class Meta:
        model = Company
        fields = ["search", "industry", "country", "owner", "created_after", "created_before"]

    def filter_search(self, queryset, name, value: str):
        return search_terms(queryset, value, ["name", "domain"])


class DealFilterSet(CreatedRangeFilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=DealStage.choices, help_text="Repeat for several stages.")
    owner = OwnerFilter(field_name="owner")
    company = IdFilter(field_name="company")
    contact = IdFilter(field_name="contact")
    open = django_filters.BooleanFilter(method="filter_open", help_text="true: not yet won or lost; false: closed.")
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = Deal
        fields = [
            "stage", "owner", "company", "contact", "open", "amount_min", "amount_max", "created_after", "created_before",
        ]

    def filter_open(self, queryset, name, value: bool):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(closed_at__isnull=False)
