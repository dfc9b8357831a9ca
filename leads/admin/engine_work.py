"""The engine's workspace work in the admin: conversion models (and "Train the conversion model"),
and the BackgroundWork list where managers follow training and rescoring runs (progress, outcome).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse

from crm.admin_tenancy import TenantScopedAdmin
from crm.models import Tenant
from leads.choices import WorkKind
from leads.models import BackgroundWork, PredictionModel
from leads.prediction.retraining import queue_training

RECENT_RUNS = 5


def may_manage(user) -> bool:
    """Tenant admins, managers and platform superusers; reps do not."""
    return user.is_active and user.is_staff and user.is_manager


class ManagersReadOnlyAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Records of workspace work (imports, training, rescoring): managers read them, nobody edits them."""

    def has_module_permission(self, request):
        return may_manage(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(PredictionModel)
class PredictionModelAdmin(ManagersReadOnlyAdmin):
    """Each workspace's conversion models, read-only, with "Train the conversion model" (queued on the engine)."""

    change_list_template = "admin/leads/predictionmodel/change_list.html"
    list_display = ("version", "is_active", "examples", "positives", "negatives", "roc_auc", "trained_by", "created_at")
    list_filter = ("is_active",)
    fields = ("tenant", "version", "is_active", "examples", "positives", "negatives", "roc_auc", "intercept",
              "trained_by", "created_at", "features", "coefficients")
    readonly_fields = fields

    def get_urls(self):
        return [
            path("train/", self.admin_site.admin_view(self.train_view), name="leads_predictionmodel_train"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        runs = BackgroundWork.objects.filter(kind=WorkKind.TRAINING).select_related("requested_by", "tenant")
        if not request.user.is_superuser:
            runs = runs.filter(tenant_id=request.user.tenant_id)
        extra = {
            "may_train": may_manage(request.user),
            "training_runs": list(runs[:RECENT_RUNS]),
            "tenants": Tenant.objects.order_by("name") if request.user.tenant_id is None else None,
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    def train_view(self, request):
        if not may_manage(request.user):
            raise PermissionDenied("Training the conversion model is for managers and tenant admins.")
        changelist = reverse("admin:leads_predictionmodel_changelist")
        if request.method != "POST":
            return redirect(changelist)
        tenant_id = request.user.tenant_id or request.POST.get("tenant")
        tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None
        if tenant is None:
            self.message_user(request, "Pick the workspace to train.", messages.ERROR)
            return redirect(changelist)
        queue_training(tenant=tenant, requested_by=request.user)
        self.message_user(request, f"Training the conversion model of {tenant} in the background: "
                                   "its outcome shows below when it is done.")
        return redirect(changelist)


@admin.register(BackgroundWork)
class BackgroundWorkAdmin(ManagersReadOnlyAdmin):
    """Training and rescoring runs: queued, running (with leads done of total), and how each ended."""

    list_display = ("kind", "status", "progress", "requested_by", "created_at", "finished_at", "message")
    list_filter = ("kind", "status")
    list_select_related = ("requested_by",)
    fields = ("tenant", "kind", "status", "progress", "requested_by", "created_at", "started_at", "finished_at",
              "message")
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, work: BackgroundWork) -> str:
        if not work.total:
            return "-"
        return f"{work.done:,} of {work.total:,} ({work.done * 100 // work.total}%)"
