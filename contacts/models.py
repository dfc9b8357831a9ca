from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.choices import ConsentSource, ConsentStatus
from crm.public_ids import public_id_field, unique_per_tenant

from .choices import ContactStatus, DealStage
from .managers import CompanyQuerySet, ContactQuerySet, DealQuerySet


class Company(models.Model):
    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="companies")
    public_id = public_id_field()
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Lowercase, without www. Unique in the tenant.")
    website = models.URLField(max_length=500, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    # PostgreSQL's integer on every database (SQLite's would take 64 bits and another schema).
    employee_count = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(2_147_483_647)])
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code")
    phone = models.CharField(max_length=32, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            unique_per_tenant("company"),
            models.UniqueConstraint(
                fields=["tenant", "domain"],
                condition=~Q(domain=""),
                name="company_domain_unique_per_tenant",
                violation_error_message="A company with this domain already exists.",
            ),
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                name="company_name_unique_per_tenant",
                violation_error_message="A company with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue__gte=0) | Q(annual_revenue__isnull=True),
                name="company_revenue_not_negative",
                violation_error_message="The annual revenue cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="contacts")
    public_id = public_id_field()
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored lowercased.")
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +14155550100")
    job_title = models.CharField(max_length=150, blank=True)
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=ContactStatus.choices, default=ContactStatus.ACTIVE,
        help_text="Customer once one of the contact's deals is won.",
    )
    # Marketing consent (docs/privacy.md): only "given" allows marketing email; who asked how is kept with it.
    marketing_consent = models.CharField(max_length=10, choices=ConsentStatus.choices, blank=True, default="")
    consent_at = models.DateTimeField(null=True, blank=True, help_text="When consent was last given or withdrawn.")
    consent_source = models.CharField(max_length=20, choices=ConsentSource.choices, blank=True)
    consent_wording = models.CharField(max_length=100, blank=True, help_text="Version of the wording the person saw.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["tenant", "owner"], name="contact_tenant_owner_idx")]
        constraints = [
            unique_per_tenant("contact"),
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=~Q(email=""),
                name="contact_email_unique_per_tenant",
                violation_error_message="A contact with this email already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Contact #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Deal(models.Model):
    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="deals")
    public_id = public_id_field()
    name = models.CharField(max_length=200)
    stage = models.CharField(max_length=20, choices=DealStage.choices, default=DealStage.QUALIFICATION)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    expected_close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "stage", "-created_at"], name="deal_tenant_stage_idx"),
            models.Index(fields=["tenant", "owner"], name="deal_tenant_owner_idx"),
        ]
        constraints = [
            unique_per_tenant("deal"),
            models.CheckConstraint(condition=Q(amount__gte=0) | Q(amount__isnull=True), name="deal_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name
