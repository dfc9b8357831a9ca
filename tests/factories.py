import factory
from factory.django import DjangoModelFactory

from contacts.models import Company, Contact, Deal
from crm.choices import ActivityKind, Role
from crm.models import Activity, ApiToken, Tenant, User
from crm.tokens import token_create
from leads.choices import LeadSource, LeadStatus
from leads.models import Channel, Lead


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")
    # Off in tests (on for a real workspace): a test that commits a capture checks the capture alone, not
    # the enrichment its commit would run in-process; tests/leads/enrichment/ turns it on.
    enrichment_enabled = False


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.REP
    is_staff = True
    password = factory.django.Password("pw-for-tests-123")


class ManagerFactory(UserFactory):
    role = Role.MANAGER


class ApiTokenFactory(DjangoModelFactory):
    """Issued through the service; the secret (shown once) is on the returned row as `.secret`."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")

    @classmethod
    def _create(cls, model_class, *, user, name, days=None, **kwargs):
        token, secret = token_create(user=user, name=name, days=days)
        token.secret = secret
        return token


class ChannelFactory(DjangoModelFactory):
    class Meta:
        model = Channel

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Website form {n}")


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = Lead

    tenant = factory.SubFactory(TenantFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@acme-{n % 7}.example.com")
    phone = ""
    company = factory.Sequence(lambda n: f"Acme {n % 7}")
    job_title = "Head of Sales"
    source = LeadSource.WEBSITE_FORM
    status = LeadStatus.NEW


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example.com")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    tenant = factory.SubFactory(TenantFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class DealFactory(DjangoModelFactory):
    class Meta:
        model = Deal

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = Activity

    tenant = factory.LazyAttribute(lambda a: a.lead.tenant)
    lead = factory.SubFactory(LeadFactory)
    kind = ActivityKind.NOTE
    body = "Spoke briefly; wants pricing."
