"""Tenant scoping for the admin: mix into every ModelAdmin and inline of a model with a `tenant` field.

Superusers (the platform) see every tenant. Everyone else sees, picks and searches only rows of
their own tenant; a user without a tenant sees nothing. Autocomplete, actions and the change view
all start from get_queryset(), so scoping it is what keeps other tenants' rows out of every page.
Within the workspace, what a user sees and changes is crm.access's call (a rep: their own and
unassigned leads), asked here by get_queryset() and has_change_permission().
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import FieldDoesNotExist

from . import access

TENANT_FIELD = "tenant"


def has_tenant_field(model) -> bool:
    try:
        model._meta.get_field(TENANT_FIELD)
    except FieldDoesNotExist:
        return False
    return True


def of_users_tenant(queryset, user):
    """The rows of the user's tenant (none when the user has no tenant)."""
    if user.tenant_id is None:
        return queryset.none()
    return queryset.filter(**{TENANT_FIELD: user.tenant_id})


def _without_tenant(fields):
    kept = []
    for entry in fields:
        if isinstance(entry, (list, tuple)):
            entry = tuple(name for name in entry if name != TENANT_FIELD)
        if entry and entry != TENANT_FIELD:
            kept.append(entry)
    return kept


# Mixed into ModelAdmin and InlineModelAdmin alike: no one class of the stubs has every hook it extends.
_AdminHooks: Any = object


class TenantScopedAdmin(_AdminHooks):
    def get_queryset(self, request):
        return access.visible(request.user, super().get_queryset(request))

    def has_change_permission(self, request, obj=None):
        # An inline is asked about its parent row, which is what its rows are changed through.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or access.can_change(request.user, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        if not user.is_superuser:
            if db_field.name == TENANT_FIELD:
                # Kept in the form (disabled, hidden) rather than excluded, so per-tenant unique
                # constraints are checked as form errors; a disabled field ignores posted values.
                kwargs.update(
                    queryset=db_field.related_model._default_manager.filter(pk=user.tenant_id),
                    initial=user.tenant_id,
                    disabled=True,
                    widget=forms.HiddenInput,
                )
            elif has_tenant_field(db_field.related_model):
                kwargs["queryset"] = of_users_tenant(self._choices(db_field, request, kwargs), user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and has_tenant_field(db_field.related_model):
            kwargs["queryset"] = of_users_tenant(self._choices(db_field, request, kwargs), request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _choices(self, db_field, request, kwargs):
        # Start from what the admin would offer anyway, to keep the related admin's ordering.
        if "queryset" in kwargs:
            return kwargs["queryset"]
        queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        return queryset if queryset is not None else db_field.related_model._default_manager.all()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or isinstance(self, InlineModelAdmin) or self._tenant_is_input(request, obj):
            return fieldsets
        # Read-only, the field would only repeat the user's own workspace.
        return [(name, {**options, "fields": _without_tenant(options["fields"])}) for name, options in fieldsets]

    def _tenant_is_input(self, request, obj) -> bool:
        editable = self.has_add_permission(request) if obj is None else self.has_change_permission(request, obj)
        return editable and TENANT_FIELD not in self.get_readonly_fields(request, obj)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or ())
        if isinstance(self, InlineModelAdmin):
            exclude.append(TENANT_FIELD)  # an inline row always belongs to its parent's tenant
        return exclude

    def get_formset(self, request, obj=None, **kwargs):
        """Inlines only: new rows take the parent's tenant."""
        formset: Any = super().get_formset(request, obj, **kwargs)  # a dynamic base: mypy checks none

        class TenantFormSet(formset):
            def save_new(self, form, commit=True):
                setattr(form.instance, TENANT_FIELD, getattr(self.instance, TENANT_FIELD))
                return super().save_new(form, commit)

        return TenantFormSet

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            setattr(obj, TENANT_FIELD, request.user.tenant)
        super().save_model(request, obj, form, change)

    def get_list_filter(self, request):
        # A plain FK filter lists every row of the related table, i.e. other tenants' users and
        # channels; the related-only filter lists just the values found in the scoped rows.
        filters = [self._scoped_filter(entry) for entry in super().get_list_filter(request)]
        if request.user.is_superuser:
            filters.append(TENANT_FIELD)
        return filters

    def _scoped_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        try:
            field = self.model._meta.get_field(entry)
        except FieldDoesNotExist:
            return entry
        if field.is_relation and has_tenant_field(field.related_model):
            return (entry, admin.RelatedOnlyFieldListFilter)
        return entry

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.is_superuser:
            display.append(TENANT_FIELD)  # the platform needs to tell workspaces apart
        return display

    def get_list_select_related(self, request):
        related = super().get_list_select_related(request)
        if request.user.is_superuser and isinstance(related, (list, tuple)):
            return (*related, TENANT_FIELD)
        return related
