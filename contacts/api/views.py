from crm.api.schema import crud_schema
from crm.api.viewsets import CrudViewSet

from ..filtersets import CompanyFilterSet, ContactFilterSet, DealFilterSet
from ..models import Company, Contact, Deal
from .serializers import CompanySerializer, ContactSerializer, DealSerializer


@crud_schema(ContactSerializer, plural="contacts", edit_rule="Reps edit their own and unassigned contacts; managers any.")
class ContactViewSet(CrudViewSet):
    queryset = Contact.objects.select_related("company", "owner").prefetch_related("source_leads")
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["last_name", "first_name", "email", "created_at", "updated_at"]


@crud_schema(CompanySerializer, plural="companies", edit_rule="Reps edit their own and unassigned companies; managers any.")
class CompanyViewSet(CrudViewSet):
    queryset = Company.objects.select_related("owner")
    serializer_class = CompanySerializer
    filterset_class = CompanyFilterSet
    ordering_fields = ["name", "domain", "industry", "country", "employee_count", "annual_revenue", "created_at", "updated_at"]


@crud_schema(
    DealSerializer,
    plural="deals",
    edit_rule=(
        "Reps edit their own and unassigned deals; managers any. Changing `stage` stamps `closed_at` when the deal "
        "is won or lost, clears it when reopened, and logs a `status_changed` activity."
    ),
)
class DealViewSet(CrudViewSet):
    queryset = Deal.objects.select_related("owner", "contact", "company")
    serializer_class = DealSerializer
    filterset_class = DealFilterSet
    ordering_fields = ["name", "stage", "amount", "expected_close_date", "closed_at", "created_at", "updated_at"]
