import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.choices import ConsentSource, ConsentStatus
from crm.managers import TenantQuerySet
from crm.models import FREE_TEXT_MAX_LENGTH
from crm.public_ids import public_id_field, unique_per_tenant

from .choices import (
    OPEN_STATUSES,
    AdLeadStatus,
    CampaignPlatform,
    ChannelKind,
    Grade,
    ImportStatus,
    LeadSource,
    LeadStatus,
    Priority,
    Recommendation,
    RuleCategory,
    RuleOperator,
    ScoreBand,
    WorkKind,
    WorkStatus,
)
from .nurture_models import NurtureStatus
from .managers import ConfigQuerySet, LeadManager, PredictionModelQuerySet


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def new_verify_token() -> str:
    return secrets.token_urlsafe(18)


# A channel's secrets: written, never shown back in full (mask_secret), never logged.
CHANNEL_SECRETS = ("app_secret", "page_access_token", "google_key")


def mask_secret(value: str) -> str:
    """'••••1234' for a set secret (its last four characters, none when it is short), '' for none."""
    if not value:
        return ""
    return "••••" + (value[-4:] if len(value) >= 12 else "")


class Channel(models.Model):
    """A door leads come in through, e.g. one website form with its public key."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="channels")
    public_id = public_id_field()
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=30, choices=ChannelKind.choices, default=ChannelKind.WEBSITE_FORM)
    form_key = models.CharField(max_length=64, unique=True, default=new_form_key, help_text="Public; embedded in the website form.")
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Origins allowed to post from a browser, e.g. ["https://www.example.com"].'
    )
    default_source = models.CharField(max_length=30, choices=LeadSource.choices, default=LeadSource.WEBSITE_FORM)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rate_limit_per_hour = models.PositiveIntegerField(default=10, help_text="Submissions per client IP per hour.")
    is_active = models.BooleanField(default=True)
    consent_checkbox = models.BooleanField(
        "Ask for marketing consent", default=False,
        help_text="The hosted form and the embed show an unticked consent checkbox with the wording below.",
    )
    consent_text = models.CharField(
        max_length=500, blank=True, default="Yes, send me news and offers by email. I can unsubscribe at any time."
    )
    consent_version = models.CharField(max_length=100, blank=True, default="v1", help_text="Stored with each consent.")
    blocked_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Submissions the spam trap caught (and answered as if received)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # Facebook Lead Ads (kind facebook_lead_ads): the page whose leads come here and the app's keys.
    page_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="The Facebook page's id.")
    app_secret = models.CharField(max_length=255, blank=True, help_text="The Facebook app's secret (signs webhooks).")
    verify_token = models.CharField(
        max_length=255, blank=True, default=new_verify_token,
        help_text="Typed into the app's webhook setup; Facebook sends it back on the subscription handshake.",
    )
    page_access_token = models.CharField(
        max_length=1000, blank=True, help_text="A page access token with leads_retrieval, to fetch each lead."
    )
    # Google Ads lead form (kind google_lead_form): the key typed into the form's webhook setup.
    google_key = models.CharField(max_length=255, blank=True, help_text="The key Google sends with every lead.")
    field_mapping = models.JSONField(
        default=dict, blank=True,
        help_text='A form\'s own fields to lead fields, e.g. {"work_email": "email", "budget": "custom_fields.budget"}.',
    )
    # What the platform last did: shown on the channel's admin page.
    last_webhook_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="channel_name_unique_per_tenant"),
            unique_per_tenant("channel"),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """An ad campaign (or a campaign a form or import named), per workspace; created on first sight."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="campaigns")
    platform = models.CharField(max_length=20, choices=CampaignPlatform.choices)
    external_id = models.CharField(max_length=200, blank=True, help_text="The campaign's id on its platform.")
    name = models.CharField(max_length=200, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "platform", "external_id"], condition=~Q(external_id=""),
                name="campaign_external_id_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "platform", "name"], condition=Q(external_id=""), name="campaign_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_platform_display()} campaign {self.external_id}"


class Lead(models.Model):
    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="leads")
    public_id = public_id_field()

    # Who
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored trimmed and lowercased.")
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +14155550100")
    job_title = models.CharField(max_length=150, blank=True)
    company = models.CharField(max_length=200, blank=True, help_text="Company name as the lead gave it.")
    industry = models.CharField(max_length=100, blank=True)
    # PostgreSQL's integer on every database (SQLite's would take 64 bits and another schema).
    employee_count = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(2_147_483_647)])
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    website = models.URLField(max_length=500, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code")
    message = models.TextField(
        blank=True, max_length=FREE_TEXT_MAX_LENGTH, validators=[MaxLengthValidator(FREE_TEXT_MAX_LENGTH)]
    )

    # Where from
    source = models.CharField(max_length=30, choices=LeadSource.choices, default=LeadSource.MANUAL)
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads")
    campaign = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    referrer = models.URLField(max_length=2000, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True, help_text="The lead's id on the platform it came from.")
    source_campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads",
        help_text="The campaign the lead came from (ad platforms; a campaign a form or import named).",
    )
    is_test = models.BooleanField(
        default=False, help_text="A platform's test lead (e.g. Google's); left out of the dashboard's figures."
    )

    # Where it stands
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    disqualification_reason = models.CharField(max_length=500, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_leads"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # The first call, email or meeting, status change to contacted/qualified, or conversion (not before creation):
    # kept by the services that log those (leads/first_contact.py), so the dashboard reads it instead of the timeline.
    first_contacted_at = models.DateTimeField(null=True, blank=True)

    # Score and prediction
    score_total = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    score_band = models.CharField(max_length=10, choices=ScoreBand.choices, default=ScoreBand.COLD)
    grade = models.CharField(max_length=2, choices=Grade.choices, default=Grade.F)
    score_version = models.CharField(max_length=64, blank=True)
    score_updated_at = models.DateTimeField(null=True, blank=True)
    score_factors = models.JSONField(default=list, blank=True, help_text="Which rule gave how many points.")
    probability = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices, blank=True)
    recommendation_reason = models.TextField(blank=True)
    prediction_version = models.CharField(max_length=64, blank=True, help_text="The model (or 'rules') behind it.")
    predicted_at = models.DateTimeField(null=True, blank=True)
    qualification = models.JSONField(
        default=dict, blank=True, help_text="The latest BANT answers (budget, authority, need, timeline, notes)."
    )

    # What it became
    converted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lead's pipeline ended: disqualified, or its deal won or lost."
    )
    converted_contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="source_leads"
    )
    converted_company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_leads"
    )
    converted_deal = models.ForeignKey(
        "contacts.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="source_leads"
    )

    # Nurture (leads/nurture/): the lead's place in a sequence; the scheduler runs leads whose next step is due.
    nurture_status = models.CharField(max_length=20, choices=NurtureStatus.choices, default=NurtureStatus.NOT_ENROLLED)
    current_sequence = models.ForeignKey(
        "leads.Sequence", on_delete=models.SET_NULL, null=True, blank=True, related_name="current_leads"
    )
    next_nurture_step_on = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lead unsubscribed from nurture email (one-click link)."
    )
    email_bounced_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When email to this address bounced; no nurture email goes to it until the address is changed.",
    )

    # Marketing consent (docs/privacy.md): only "given" allows marketing email; who asked how is kept with it.
    marketing_consent = models.CharField(max_length=10, choices=ConsentStatus.choices, blank=True, default="")
    consent_at = models.DateTimeField(null=True, blank=True, help_text="When consent was last given or withdrawn.")
    consent_source = models.CharField(max_length=20, choices=ConsentSource.choices, blank=True)
    consent_wording = models.CharField(max_length=100, blank=True, help_text="Version of the wording the person saw.")
    custom_fields = models.JSONField(default=dict, blank=True)
    enrichment_data = models.JSONField(default=dict, blank=True)
    # Details a person set or cleared (field names; "custom_fields.<key>" for one answer): a later
    # submission or import never fills them again (leads/intake.py). Written by the editing service.
    edited_fields = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The lead list's orderings (newest first, ties by id) straight from an index, per status and owner too.
            models.Index(fields=["tenant", "status", "-created_at", "-id"], name="lead_tenant_status_recent_idx"),
            # The dashboard's per-rep "now" counts (open, untouched) read this index alone on PostgreSQL.
            models.Index(fields=["tenant", "owner", "status"], include=["id", "first_contacted_at", "is_test"],
                         name="lead_tenant_owner_status_idx"),
            # The dashboard's cohort (leads created in a period): every figure it draws is in the index, so
            # PostgreSQL answers from it without visiting the rows (leads/dashboard/figures.py).
            models.Index(fields=["tenant", "created_at"],
                         include=["id", "owner", "status", "score_band", "source", "source_campaign", "qualified_at",
                                  "first_contacted_at", "is_test"],
                         name="lead_dashboard_cohort_idx"),
            models.Index(fields=["tenant", "owner", "-created_at", "-id"], name="lead_tenant_owner_recent_idx"),
            models.Index(fields=["tenant", "-score_total"], name="lead_tenant_score_idx"),
            models.Index(fields=["tenant", "-created_at", "-id"], name="lead_tenant_recent_idx"),
            models.Index(fields=["tenant", "email"], name="lead_tenant_email_idx"),
            models.Index(fields=["tenant", "phone"], name="lead_tenant_phone_idx"),
            models.Index(fields=["tenant", "source", "source_campaign"], name="lead_tenant_src_campaign_idx"),
            models.Index(fields=["tenant", "nurture_status", "next_nurture_step_on"], name="lead_tenant_nurture_idx"),
        ]
        constraints = [
            unique_per_tenant("lead"),
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=Q(status__in=OPEN_STATUSES) & ~Q(email=""),
                name="lead_open_email_unique_per_tenant",
                violation_error_message="An open lead with this email already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""),
                name="lead_has_email_or_phone",
                violation_error_message="A lead needs an email or a phone number.",
            ),
            models.CheckConstraint(condition=Q(score_total__lte=100), name="lead_score_at_most_100"),
            models.CheckConstraint(
                condition=Q(annual_revenue__gte=0) | Q(annual_revenue__isnull=True),
                name="lead_revenue_not_negative",
                violation_error_message="The annual revenue cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__gte=0, probability__lte=1),
                name="lead_probability_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.CONVERTED)
                | Q(converted_at__isnull=False, converted_contact__isnull=False),
                name="lead_converted_links_contact",
                violation_error_message="A converted lead links to the contact it became.",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.DISQUALIFIED) | ~Q(disqualification_reason=""),
                name="lead_disqualified_has_reason",
                violation_error_message="A disqualified lead needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AdLead(models.Model):
    """One lead an ad platform announced: its id there (one row per id, so a repeated webhook or a
    retry makes one lead), the ad, form and campaign it came from, and how its capture went."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="ad_leads")
    platform = models.CharField(max_length=20, choices=CampaignPlatform.choices)
    external_id = models.CharField(max_length=200, help_text="Facebook's leadgen_id, Google's lead_id.")
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="ad_origins")
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ad_id = models.CharField(max_length=200, blank=True)
    adgroup_id = models.CharField(max_length=200, blank=True, help_text="The ad set (Facebook) or ad group (Google).")
    form_id = models.CharField(max_length=200, blank=True)
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=AdLeadStatus.choices, default=AdLeadStatus.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Fetches tried (Facebook).")
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    captured_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "platform", "external_id"], name="ad_lead_unique_per_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} lead {self.external_id}"


class ScoringRule(models.Model):
    """One line of a tenant's scoring sheet: if the lead matches, it gets the points."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="scoring_rules")
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=RuleCategory.choices)
    field = models.CharField(max_length=60, help_text="Lead field, or the activity kind for 'activity count'.")
    operator = models.CharField(max_length=20, choices=RuleOperator.choices)
    value = models.CharField(max_length=500, blank=True, help_text="Comma-separated for 'in list'.")
    points = models.SmallIntegerField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name"]
        indexes = [models.Index(fields=["tenant", "active"], name="scoringrule_tenant_active_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+d})"


class IdempotencyRecord(models.Model):
    """The first answer given to an `Idempotency-Key`, replayed to retries of the same request.

    Written in the transaction that captured the lead, so a key never exists without its effect.
    """

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=60, help_text="Whose key it is: 'channel:<id>' or 'user:<id>'.")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "scope", "key"], name="idempotency_key_unique_per_scope"),
        ]
        indexes = [models.Index(fields=["tenant", "scope", "created_at"], name="idempotency_scope_age_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class FormPostCount(models.Model):
    """Anonymous posts to one form from one address in one clock hour (leads/capture/ratelimit.py).

    In the database so that every web process shares one count when there is no Redis.
    """

    bucket = models.CharField(max_length=200, primary_key=True, help_text="Form key, client address, hour.")
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.count}"


class AssignmentRule(models.Model):
    """Routing: the first active rule (by priority) whose conditions a new lead meets decides its owner."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="assignment_rules")
    name = models.CharField(max_length=120)
    priority = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='All must hold, e.g. [{"field": "country", "operator": "in_list", "value": "DE,AT,CH"}]. '
        "Empty matches every lead.",
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="Rotate among these reps."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        indexes = [models.Index(fields=["tenant", "active", "priority"], name="assignrule_tenant_prio_idx")]

    def __str__(self) -> str:
        return self.name


class PredictionModel(models.Model):
    """A trained conversion model kept as plain data (encodings and coefficients), never a pickle."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="prediction_models")
    version = models.CharField(max_length=64)
    features = models.JSONField(default=dict, help_text="How each lead is turned into numbers.")
    coefficients = models.JSONField(default=list)
    intercept = models.FloatField(default=0.0)
    examples = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    negatives = models.PositiveIntegerField(default=0)
    roc_auc = models.FloatField(null=True, blank=True, help_text="On the held-out split.")
    is_active = models.BooleanField(default=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PredictionModelQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="prediction_model_version_unique"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_active=True), name="one_active_prediction_model_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} model {self.version}"


class ImportJob(models.Model):
    """One run of the CSV importer: what was read, with which options, and what became of each row.

    Batches commit as they go, so `last_line` says how far a killed run got; re-running the same
    file (same checksum) skips what is already in the database.
    """

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    options = models.JSONField(default=dict, blank=True, help_text="Defaults, column mapping, duplicate policy.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    encoding = models.CharField(max_length=40, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    last_line = models.PositiveIntegerField(default=0, help_text="Last file line of the last committed batch.")
    # A queued (admin) import: where its upload waits for the engine, how far the engine has read it,
    # and whether someone asked it to stop (checked between batches).
    upload_path = models.CharField(max_length=500, blank=True, help_text="The uploaded file, until the job ends.")
    bytes_total = models.PositiveBigIntegerField(default=0, help_text="Size of the file.")
    bytes_read = models.PositiveBigIntegerField(default=0, help_text="Bytes of the file read by the committed batches.")
    cancel_requested = models.BooleanField(default=False)
    error_report = models.TextField(blank=True, help_text="CSV: line, column, message for every rejected row.")
    warned = models.PositiveIntegerField(default=0, help_text="Rows imported with a warning (a soft field kept raw).")
    findings = models.JSONField(
        default=dict, blank=True,
        help_text='Rejections and warnings grouped by column and reason: {"rejected"|"warnings": [{column, message, '
                  'count, examples: [[line, value]]}]}.',
    )
    message = models.TextField(blank=True, help_text="Why the run failed, when it did.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "checksum"], name="importjob_tenant_checksum_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def ended(self) -> bool:
        return self.status in (ImportStatus.FINISHED, ImportStatus.FAILED, ImportStatus.CANCELLED)


class ImportMapping(models.Model):
    """A workspace's saved import mapping: columns to fields and words to values, reused by name."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="import_mappings")
    name = models.CharField(max_length=100)
    profile = models.CharField(max_length=20, blank=True, help_text='A CRM profile name, "none", or empty: detect.')
    columns = models.JSONField(default=dict, blank=True, help_text="Column header -> lead field (or custom:/ignore).")
    values = models.JSONField(default=dict, blank=True, help_text="Field -> their word -> our value.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="importmapping_tenant_name_uniq")]

    def __str__(self) -> str:
        return self.name


class BackgroundWork(models.Model):
    """A piece of workspace work run by the engine (training, rescoring): who asked, how far it got, how it ended."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="background_work")
    kind = models.CharField(max_length=20, choices=WorkKind.choices)
    status = models.CharField(max_length=20, choices=WorkStatus.choices, default=WorkStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "background work"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


# Nurture sequences, enrolments and their step log: models of this app, kept in their own module.
from .nurture_models import Enrolment, EnrolmentRule, NurturePolicy, Sequence, SequenceStep, StepRun  # noqa: E402, F401
# The dashboard's stored figures (leads/dashboard_rollup.py keeps them), in their own module too.
from .dashboard_models import DashboardDay, DashboardLead, DashboardStale, DashboardWait  # noqa: E402, F401
