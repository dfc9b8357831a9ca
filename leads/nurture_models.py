"""Nurture: sequences of steps a lead is taken through, the enrolments and the log of every step run.

Kept beside leads/models.py (imported at its end) so the lead's own fields stay in one place. The
rules that change these rows live in leads/nurture/ (the service); the settings of each step kind are
checked by `check_step_settings` below, which the model's clean() and the service both call.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from crm.managers import TenantQuerySet
from crm.public_ids import public_id_field, unique_per_tenant
from leads.choices import LeadSource


class NurtureStatus(models.TextChoices):
    NOT_ENROLLED = "not_enrolled", "Not enrolled"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"


class ExitReason(models.TextChoices):
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"
    REPLIED = "replied", "Replied (email, call or meeting)"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    GREW_HOT = "grew_hot", "Grown hot (routed to a rep)"
    QUALIFIED = "qualified", "Qualified (routed to a rep)"
    REMOVED = "removed", "Removed by hand"
    SEQUENCE_ENDED = "sequence_ended", "Sequence switched off"


class StepKind(models.TextChoices):
    WAIT = "wait", "Wait"
    EMAIL = "email", "Send an email"
    TASK = "task", "Create a task for the owner"
    NOTIFY = "notify", "Notify the owner"
    SET_FIELD = "set_field", "Set a field or status"


class StepOutcome(models.TextChoices):
    WAITED = "waited", "Waiting"
    SENT = "sent", "Email sent"
    FAILED = "failed", "Email failed"
    SKIPPED = "skipped", "Skipped"
    DONE = "done", "Done"


# The fields a set_field step may write, and the values each takes (None: free text up to 100 characters).
SETTABLE_FIELDS: dict[str, tuple[str, ...] | None] = {
    "priority": ("low", "medium", "high", "urgent"),
    "status": ("contacted", "qualified"),
}
# Merge fields of an email's subject and body: {{ lead.first_name }}, {{ owner.first_name }}, {{ workspace.name }}.
MERGE_FIELDS = {
    "lead": ("first_name", "last_name", "full_name", "email", "company", "job_title", "industry", "country", "website"),
    "owner": ("first_name", "last_name", "full_name", "email"),
    "workspace": ("name",),
}
TEMPLATES = Engine(autoescape=False)  # plain text mail; no loaders, no tags beyond the built-ins


def _int(settings_: dict, name: str, errors: list[str], *, low: int = 0, high: int = 3650) -> int:
    value = settings_.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(f"'{name}' must be a whole number from {low} to {high}.")
        return 0
    return value


def _text(settings_: dict, name: str, errors: list[str], *, required: bool, limit: int = 10_000,
          template: bool = False) -> None:
    value = settings_.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"'{name}' is required text." if required else f"'{name}' must be text.")
        return
    if len(value) > limit:
        errors.append(f"'{name}' is at most {limit} characters.")
    if template:
        try:
            TEMPLATES.from_string(value)
        except TemplateSyntaxError as exc:
            errors.append(f"'{name}' is not a valid template: {exc}")


def check_step_settings(kind: str, settings_: object) -> dict:
    """The step's settings, checked for its kind; raises ValidationError({'settings': [...]}) naming what is wrong.

    - wait: {"days": int, "hours": int, "minutes": int, "working_days": bool}; at least a minute in all.
    - email: {"subject": template, "body": template} (merge fields: see MERGE_FIELDS).
    - task: {"subject": text, "due_in_days": int}.
    - notify: {"message": text}.
    - set_field: {"field": one of SETTABLE_FIELDS, "value": one of its values}.
    """
    if not isinstance(settings_, dict):
        raise ValidationError({"settings": ["Settings are a JSON object."]})
    errors: list[str] = []
    known: tuple[str, ...] = ()
    if kind == StepKind.WAIT:
        known = ("days", "hours", "minutes", "working_days")
        total = (_int(settings_, "days", errors) * 1440 + _int(settings_, "hours", errors, high=10_000) * 60
                 + _int(settings_, "minutes", errors, high=100_000))
        if not isinstance(settings_.get("working_days", False), bool):
            errors.append("'working_days' is true or false.")
        if not errors and total < 1:
            errors.append("A wait lasts at least a minute: give days, hours or minutes.")
    elif kind == StepKind.EMAIL:
        known = ("subject", "body")
        _text(settings_, "subject", errors, required=True, limit=200, template=True)
        _text(settings_, "body", errors, required=True, template=True)
    elif kind == StepKind.TASK:
        known = ("subject", "due_in_days")
        _text(settings_, "subject", errors, required=True, limit=200)
        _int(settings_, "due_in_days", errors, high=365)
    elif kind == StepKind.NOTIFY:
        known = ("message",)
        _text(settings_, "message", errors, required=True, limit=2000)
    elif kind == StepKind.SET_FIELD:
        known = ("field", "value")
        field = settings_.get("field")
        if field not in SETTABLE_FIELDS:
            errors.append(f"'field' is one of: {', '.join(SETTABLE_FIELDS)}.")
        else:
            allowed = SETTABLE_FIELDS[field]
            if allowed is not None and settings_.get("value") not in allowed:
                errors.append(f"'value' of {field} is one of: {', '.join(allowed)}.")
    else:
        raise ValidationError({"kind": [f"Unknown step kind {kind!r}."]})
    unknown = sorted(set(settings_) - set(known))
    if unknown:
        errors.append(f"Unknown settings for a {kind} step: {', '.join(unknown)}.")
    if errors:
        raise ValidationError({"settings": errors})
    return settings_


@functools.lru_cache(maxsize=512)
def _compiled(source: str):
    return TEMPLATES.from_string(source)


def render_template(source: str, context: dict) -> str:
    return _compiled(source).render(Context(context, autoescape=False))


class Sequence(models.Model):
    """A workspace's nurture sequence: ordered steps a lead is taken through until it ends or exits."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="sequences")
    public_id = public_id_field()
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    active = models.BooleanField(default=True, help_text="Off: nobody new is enrolled and enrolled leads wait.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            unique_per_tenant("sequence"),
            models.UniqueConstraint(fields=["tenant", "name"], name="sequence_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Steps run in this order, lowest first.")
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    settings = models.JSONField(
        default=dict, blank=True,
        help_text='wait: {"days": 2, "working_days": true}; email: {"subject": "Hi {{ lead.first_name }}", '
        '"body": "..."}; task: {"subject": "Call", "due_in_days": 1}; notify: {"message": "..."}; '
        'set_field: {"field": "priority", "value": "high"}.',
    )

    class Meta:
        ordering = ["sequence", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="sequence_step_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"

    def clean(self) -> None:
        super().clean()
        check_step_settings(self.kind, self.settings)


class Enrolment(models.Model):
    """One lead's way through one sequence: where it is, and how it ended."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrolments")
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrolments")
    next_position = models.PositiveSmallIntegerField(default=0, help_text="Position of the next step to run.")
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=NurtureStatus.choices, default=NurtureStatus.ACTIVE)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead"], condition=Q(ended_at__isnull=True),
                                    name="one_open_enrolment_per_lead"),
        ]
        indexes = [models.Index(fields=["sequence", "outcome"], name="enrolment_sequence_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.sequence}"


class StepRun(models.Model):
    """The log of one step run for one enrolment. Its unique (enrolment, step) row is written in the
    transaction that runs the step: a step runs once per enrolment, however many schedulers look."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="runs")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="nurture_runs")
    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="runs")
    outcome = models.CharField(max_length=20, choices=StepOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ran_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "step", "enrolment"], name="step_runs_once_per_enrolment"),
        ]
        indexes = [models.Index(fields=["step", "outcome"], name="steprun_step_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.step} for {self.lead_id}: {self.outcome}"


def default_follow_up_days() -> list[int]:
    return [1, 7]


class NurturePolicy(models.Model):
    """A workspace's nurture and follow-up settings (one row per workspace, made on first use)."""

    tenant = models.OneToOneField("crm.Tenant", on_delete=models.CASCADE, related_name="nurture_policy")
    sender_email = models.EmailField(blank=True, help_text="From address of nurture email; empty: DEFAULT_FROM_EMAIL.")
    sender_name = models.CharField(max_length=120, blank=True, help_text="Empty: the workspace's name.")
    requires_marketing_consent = models.BooleanField(
        default=False, help_text="Only leads who gave marketing consent get nurture email.")
    nurture_below_score = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Routing: a new lead scoring below this goes to the routing sequence instead of a rep; empty: off.")
    routing_sequence = models.ForeignKey(Sequence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    follow_up_days = models.JSONField(
        default=default_follow_up_days, blank=True,
        help_text="Days after capture at which an uncontacted lead gets a follow-up task, e.g. [1, 7]; empty: none.")
    speed_to_lead_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="A hot lead nobody contacted for this long alerts the managers; empty: off.")

    class Meta:
        verbose_name_plural = "nurture policies"

    def __str__(self) -> str:
        return f"Nurture policy of {self.tenant}"


# The score bands an enrolment rule may take in: a hot lead always goes to a rep (document 002: "score >= 70 ->
# sales, else nurture"), and one that grew hot leaves its sequence for a rep.
NURTURE_BANDS = (("cold", "Cold"), ("warm", "Warm"))


class EnrolmentRule(models.Model):
    """A workspace's rule: a new lead that matches it enters a sequence at capture (the first matching rule,
    lowest `priority` first). Read by leads.nurture.policy.nurture_at_capture; its conditions are checked by
    leads.nurture.policy.check_conditions (the admin form calls it)."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="enrolment_rules")
    public_id = public_id_field()
    name = models.CharField(max_length=120)
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrolment_rules",
                                 help_text="Where matching new leads go.")
    priority = models.PositiveSmallIntegerField(default=100, help_text="Rules are tried lowest first; the first "
                                                "that matches enrols.")
    active = models.BooleanField(default=True)
    score_bands = models.JSONField(default=list, blank=True,
                                   help_text='Score bands taken in: ["cold"], ["warm"] or both; empty: cold and warm. '
                                   "Hot leads always go to a rep.")
    sources = models.JSONField(default=list, blank=True,
                               help_text='Lead sources taken in, e.g. ["website_form"]; empty: any source.')
    channels = models.ManyToManyField("leads.Channel", blank=True, related_name="+",
                                      help_text="Channels taken in; none chosen: any channel (or none).")
    conditions = models.JSONField(
        default=list, blank=True,
        help_text='More conditions, all of which must hold, in the scoring rules\' language: '
        '[{"field": "country", "operator": "in_list", "value": "DE, AT"}]; activity counts are not known at capture.')
    hold_from_reps = models.BooleanField(
        default=True, verbose_name="nurture instead of a rep",
        help_text="On: a matching lead nobody owns gets no rep until it qualifies or grows hot. "
        "Off: it is routed to a rep as usual and nurtured too.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            unique_per_tenant("enrolment_rule"),
            models.UniqueConstraint(fields=["tenant", "name"], name="enrolment_rule_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if self.sequence_id and self.tenant_id and self.sequence.tenant_id != self.tenant_id:
            errors["sequence"] = ["Choose a sequence of this workspace."]
        bands = {value for value, _ in NURTURE_BANDS}
        if not isinstance(self.score_bands, list) or not set(self.score_bands) <= bands:
            errors["score_bands"] = [f"A list of: {', '.join(sorted(bands))} (hot leads always go to a rep)."]
        if not isinstance(self.sources, list) or not set(self.sources) <= set(LeadSource.values):
            errors["sources"] = [f"A list of: {', '.join(LeadSource.values)}."]
        if errors:
            raise ValidationError(errors)
