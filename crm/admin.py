from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from . import access
from .admin_cells import person_name, two_lines, when
from .admin_events import RelayBacklogMixin
from .admin_tenancy import TenantScopedAdmin, of_users_tenant
from .choices import ActivityKind, Role, TokenRevokeReason
from .models import AccessRecord, Activity, ApiToken, Event, PrivacyRequest, Tenant, User
from .normalize import normalize_email, normalize_phone
from .tokens import MAX_DAYS, token_create, token_revoke, tokens_revoke_for_user
from .users import CHANGEABLE_FIELDS, user_deactivated

admin.site.site_header = "Lead CRM"
admin.site.site_title = "Lead CRM"
admin.site.index_title = "Back office"

# What people log by hand; every other kind is written by an entry point and stays as written.
MANUAL_KINDS = (ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.TASK)
MANUAL_KIND_CHOICES = [(kind.value, kind.label) for kind in MANUAL_KINDS]


class PersonForm(forms.ModelForm):
    """Stores email and phone the way every lookup expects them (lowercase, E.164)."""

    def clean_email(self):
        return normalize_email(self.cleaned_data.get("email"))

    def clean_phone(self):
        return normalize_phone(self.cleaned_data.get("phone"))


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "strict_pipeline", "created_at")
    search_fields = ("name", "slug")
    fields = (
        "name", "slug", "strict_pipeline", "reps_read_all_leads", "enrichment_enabled",
        "retain_disqualified_months", "retain_inactive_months", "retain_import_reports_days",
        "retain_access_records_days", "retention_dry_run", "created_at",
    )
    readonly_fields = ("retention_dry_run", "created_at")

    @admin.display(description="retention dry run")
    def retention_dry_run(self, tenant):
        # By URL name: the dry run is the leads app's page (leads.admin.privacy); it shows the viewer's own
        # workspace, to its admins (anyone else gets a 403 there).
        return format_html('<a href="{}">What the next nightly run would anonymise, clear and delete</a>',
                           reverse("admin:leads_lead_retention"))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=request.user.tenant_id) if request.user.tenant_id else queryset.none()

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        return (*self.readonly_fields, "slug")  # the slug identifies the workspace; only the platform renames it

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# Fields that would lift a tenant user above their role; only the platform sets them.
PLATFORM_ONLY_USER_FIELDS = frozenset({"is_superuser", "groups", "user_permissions"})


@admin.register(User)
class UserAdmin(TenantScopedAdmin, DjangoUserAdmin):
    list_display = ("person", "role", "is_available", "lead_capacity", "is_active", "is_staff")
    list_display_links = None  # the person cell links the username itself
    list_filter = ("role", "is_available", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    readonly_fields = ("last_login", "date_joined", "last_assigned_at")

    @admin.display(description="user", ordering="username")
    def person(self, user):
        return two_lines(reverse("admin:crm_user_change", args=[user.pk]), user.username, user.get_full_name(),
                         user.email)

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Workspace", {"fields": ("tenant", "role")}),
        (
            "Lead routing",
            {
                "fields": ("is_available", "lead_capacity", "last_assigned_at"),
                "description": "Away or full (open leads at capacity): routing gives this person no new leads. "
                "Round robin gives leads to reps only; an assignment rule may name anyone.",
            },
        ),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("Workspace", {"fields": ("tenant", "role", "email", "is_staff")}),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in PLATFORM_ONLY_USER_FIELDS]})
            for name, options in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        # Managers change reps, tenant admins anyone (crm.access); the others' pages are read-only.
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return obj.pk == request.user.pk or obj.role in access.roles_managed_by(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return (*fields, "role", "is_active")  # nobody promotes or deactivates themselves
        return fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            managed = access.roles_managed_by(request.user)
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value in managed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # Django's UserAdmin.get_form takes no `change`; its stubs ignore the same override.
    def get_form(self, request, obj=None, **kwargs):  # type: ignore[override]
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "tenant" in form.base_fields:
            # The add form makes an ordinary user, and ordinary users need a tenant (a DB constraint).
            form.base_fields["tenant"].required = True
        actor = request.user

        class PolicyForm(form):  # type: ignore[valid-type, misc]  # a class made for this request
            """The API's rules (crm.access) as a form error: who may create or change whom, and which fields."""

            def clean(self):
                cleaned = super().clean()
                try:
                    if obj is None:
                        access.check_user_create(actor, role=cleaned.get("role") or Role.REP)
                    else:
                        fields = set(self.changed_data) & CHANGEABLE_FIELDS
                        access.check_user_change(actor, obj, fields, role=cleaned.get("role") if "role" in fields else None)
                except access.AccessDenied as exc:
                    raise ValidationError(str(exc)) from exc
                return cleaned

        return PolicyForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Deactivating revokes the user's tokens, as crm.users does for the API (password changes revoke
        # through crm.tokens.RevokeTokensOnPasswordChange, whichever door changed the password).
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivated(user=obj, actor=request.user)
        elif change and "tenant" in form.changed_data:
            tokens_revoke_for_user(user=obj, reason=TokenRevokeReason.WORKSPACE_CHANGED, actor=request.user)


class ActivityTimelineInline(TenantScopedAdmin, admin.TabularInline):
    """The timeline as it happened, newest first; entries are changed on their own page, if at all."""

    model = Activity
    extra = 0
    fields = ("occurred_at", "kind", "subject", "body", "due_at", "actor")
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    show_change_link = True
    can_delete = False
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ActivityNoteInline(TenantScopedAdmin, admin.StackedInline):
    """Log a call, note or task on the record being edited (existing entries show in the timeline)."""

    model = Activity
    extra = 0
    fields = ("kind", "subject", "body", "due_at")
    verbose_name = "activity"
    verbose_name_plural = "log an activity"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = MANUAL_KIND_CHOICES
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset: Any = super().get_formset(request, obj, **kwargs)  # a dynamic base: mypy checks none
        actor = request.user

        class NoteFormSet(formset):
            def save_new(self, form, commit=True):
                form.instance.actor = actor
                return super().save_new(form, commit)

        return NoteFormSet


class ActivityForm(forms.ModelForm):
    """An entry goes only onto a lead, contact or deal the user may work (crm.access): else a field error."""

    user = None  # the signed-in user, set by ActivityAdmin.get_form

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for name in ("lead", "contact", "deal"):
            row = cleaned.get(name)
            if name in self.changed_data and row is not None:
                try:
                    access.check_change(self.user, row)
                except access.AccessDenied as exc:
                    self.add_error(name, str(exc))
        return cleaned


@admin.register(Activity)
class ActivityAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = ActivityForm
    list_display = ("occurred", "kind", "subject", "about", "actor_name")
    list_display_links = ("occurred",)
    list_filter = ("kind", "actor", "occurred_at")
    list_select_related = ("lead", "contact", "deal", "actor")
    search_fields = ("subject", "body", "lead__email", "contact__email")
    autocomplete_fields = ("lead", "contact", "deal")
    fields = (
        "tenant",
        "kind",
        "subject",
        "body",
        "lead",
        "contact",
        "deal",
        "occurred_at",
        "due_at",
        "done_at",
        "actor",
        "data",
    )
    readonly_fields = ("actor", "data")

    @admin.display(description="when", ordering="occurred_at")
    def occurred(self, activity):
        return when(activity.occurred_at)

    @admin.display(description="about")
    def about(self, activity):
        """The lead, contact and deal it is on, in one cell."""
        return " · ".join(str(row) for row in (activity.lead, activity.contact, activity.deal) if row is not None)

    @admin.display(description="by", ordering="actor__first_name")
    def actor_name(self, activity):
        return person_name(activity.actor)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # type: ignore[attr-defined]  # the class made for this request carries its user
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.kind not in MANUAL_KINDS:
            return self.fields
        return self.readonly_fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = MANUAL_KIND_CHOICES
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.actor = request.user
        super().save_model(request, obj, form, change)


@admin.register(Event)
class EventAdmin(RelayBacklogMixin, TenantScopedAdmin, admin.ModelAdmin):
    """The outbox, for looking only: rows are written by entry points and consumed by delivery."""

    change_list_template = "admin/crm/event/change_list.html"  # the relay's backlog above the list
    list_display = ("__str__", "type", "created_at", "delivered_at")
    list_filter = ("type", ("delivered_at", admin.EmptyFieldListFilter))
    search_fields = ("type",)
    fields = ("tenant", "type", "payload", "created_at", "delivered_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiTokenCreateForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), help_text="The token acts as this person.")
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. the system that will use it.")
    days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, required=False, label="Valid for (days)",
        help_text=f"Empty for the default, {settings.API_TOKEN_DAYS} days.",
    )

    def __init__(self, data=None, *, users):
        super().__init__(data)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = users


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", "Usable"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "usable":
            return queryset.usable(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """A workspace's API tokens: tenant admins list, issue and revoke them; a token is never edited or deleted."""

    list_display = ("token", "created", "expires", "last_used", "state")
    list_display_links = None  # the token cell links its name
    list_filter = (TokenStateFilter, "user")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    fields = (
        "name", "user", "key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_reason",
        "revoked_by",
    )
    readonly_fields = fields
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.role == Role.ADMIN:
            return queryset
        return queryset.filter(user_id=request.user.pk)  # should a role ever be granted the page: own tokens only

    def has_change_permission(self, request, obj=None):
        # Revoking (an action on the list) is the only change; a token's own page is for reading.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row is the record of who could use the API, and when

    @admin.display(description="token", ordering="prefix")
    def key_prefix(self, token):
        return f"{token.prefix}…"

    @admin.display(description="token", ordering="name")
    def token(self, token):
        return two_lines(reverse("admin:crm_apitoken_change", args=[token.pk]), token.name, person_name(token.user),
                         self.key_prefix(token))

    @admin.display(description="created", ordering="-created_at")
    def created(self, token):
        return when(token.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, token):
        return timezone.localtime(token.expires_at).strftime("%-d %b %Y")

    @admin.display(description="last used", ordering="-last_used_at")
    def last_used(self, token):
        return when(token.last_used_at) or "never"

    @admin.display(description="state")
    def state(self, token):
        if token.revoked_at:
            return f"Revoked {token.revoked_at:%Y-%m-%d} ({token.get_revoked_reason_display().lower()})"
        if token.expires_at <= timezone.now():
            return "Expired"
        return "Usable"

    @admin.action(permissions=["change"], description="Revoke selected tokens")
    def revoke_selected(self, request, queryset):
        try:
            revoked = sum(token_revoke(token=token, actor=request.user) for token in queryset.select_related("user"))
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Revoked {revoked} token(s); they stop working now.", messages.SUCCESS)

    def add_view(self, request, form_url="", extra_context=None):
        # Not the model form: the service makes the secret, and it is shown on the answer to this
        # POST rather than carried to the next page in a message (cookie or session).
        if not self.has_add_permission(request):
            raise PermissionDenied
        users = User.objects.filter(is_active=True, tenant__isnull=False).order_by("username")
        if not request.user.is_superuser:
            users = of_users_tenant(users, request.user)
        form = ApiTokenCreateForm(request.POST or None, users=users)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                token, secret = token_create(user=data["user"], name=data["name"], days=data["days"], actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc if isinstance(exc, ValidationError) else str(exc))
            else:
                self.log_addition(request, token, [{"added": {}}])
                return self._render(request, "created.html", "API token created", token=token, secret=secret)
        return self._render(request, "add.html", "Create an API token", form=form)

    def _render(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/crm/apitoken/{template}",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context},
        )


def is_workspace_admin(user) -> bool:
    return bool(user.is_active and (user.is_superuser or (user.tenant_id and user.role == Role.ADMIN)))


class WorkspaceAdminsReadOnly(TenantScopedAdmin, admin.ModelAdmin):
    """Privacy records: workspace admins read them; nobody adds, changes or deletes one through the product."""

    def has_module_permission(self, request):
        return is_workspace_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_workspace_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessRecord)
class AccessRecordAdmin(WorkspaceAdminsReadOnly):
    """Who read personal data. Search by user (username, email), by person (their email: every record naming
    one of their leads or contacts) or by a row's public id; filter by door and date."""

    list_display = ("at", "user", "door", "address", "model", "count", "query")
    list_filter = ("door", "model", ("at", admin.DateFieldListFilter))
    date_hierarchy = "at"
    search_fields = ("user__username", "user__email", "object_ids")
    fields = ("tenant", "at", "user", "door", "address", "model", "count", "query", "object_ids")
    readonly_fields = fields
    list_select_related = ("user",)
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" not in term:
            return super().get_search_results(request, queryset, search_term)
        # A person: the public ids of their leads and contacts in this workspace (lazy models: crm sits below them).
        email = term.lower()
        tenant_id = request.user.tenant_id
        ids: list[str] = []
        for label in ("leads.Lead", "contacts.Contact"):
            model = apps.get_model(label)
            rows = model._default_manager.filter(email=email)
            if tenant_id is not None:
                rows = rows.filter(tenant_id=tenant_id)
            ids.extend(str(value) for value in rows.values_list("public_id", flat=True))
        users = Q(user__email__iexact=email)
        if not ids:
            return queryset.filter(users), False
        people = Q()
        for public_id in ids:
            people |= Q(object_ids__contains=public_id)
        return queryset.filter(users | people), False


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(WorkspaceAdminsReadOnly):
    """Data-subject requests answered (export, erasure): when, by whom, how many rows; never the person's data."""

    list_display = ("created_at", "kind", "requested_by", "door", "counts")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("subject_hash",)
    fields = ("tenant", "created_at", "kind", "requested_by", "door", "counts", "subject_hash")
    readonly_fields = fields
