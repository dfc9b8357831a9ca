from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q

from .admin_events import RelayBacklogMixin
from .admin_tenancy import TenantScopedAdmin
from .choices import ActivityKind
from .models import Activity, Event, Tenant, User
from .normalize import normalize_email, normalize_phone

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
    fields = ("name", "slug", "strict_pipeline", "created_at")
    readonly_fields = ("created_at",)

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
    list_display = (
        "username", "email", "first_name", "last_name", "role", "is_available", "lead_capacity", "is_active", "is_staff"
    )
    list_filter = ("role", "is_available", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    readonly_fields = ("last_login", "date_joined", "last_assigned_at")
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

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "tenant" in form.base_fields:
            # The add form makes an ordinary user, and ordinary users need a tenant (a DB constraint).
            form.base_fields["tenant"].required = True
        return form


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
    verbose_name = "new activity"
    verbose_name_plural = "log an activity"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = MANUAL_KIND_CHOICES
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        actor = request.user

        class NoteFormSet(formset):
            def save_new(self, form, commit=True):
                form.instance.actor = actor
                return super().save_new(form, commit)

        return NoteFormSet


@admin.register(Activity)
class ActivityAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "subject", "lead", "contact", "deal", "actor")
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

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_manager:
            return queryset
        # A rep sees the timeline of the leads in their list (own and unassigned), and entries on no lead.
        leads = self.model.lead.field.related_model.objects.own_or_unassigned(request.user)
        return queryset.filter(Q(lead__isnull=True) | Q(lead__in=leads))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "lead" and field is not None and not request.user.is_manager:
            field.queryset = field.queryset.own_or_unassigned(request.user)
        return field

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
