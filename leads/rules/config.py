"""What every captured lead reads about its workspace, cached per process: the scoring sheet, the
assignment rules (with their teams), whether it has reps to route to, and the active prediction model.

Reading them costs five queries per lead, and they change rarely (someone edits a rule or a
user, a model is trained). Every change to those rows bumps `Tenant.config_version` in the same transaction
(`Tenant.objects.bump_config_version`, called from the signal handlers below and from bulk paths), and callers
pass the Tenant row they read in their own request, so a cached entry is used only while its
version is that row's: a worker never uses a sheet older than the tenant row it holds.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from django.db.models.signals import m2m_changed, post_delete, post_save

from crm.choices import Role
from crm.models import Tenant, User
from leads.models import AssignmentRule, PredictionModel, ScoringRule
from leads.rules.sheet import RuleSheet, rule_sheet

if TYPE_CHECKING:
    import datetime as dt


class TenantConfig:
    """One tenant's cached rows at one version; each part is read on first use."""

    def __init__(self, tenant_id: int, key: tuple[int, dt.datetime, str]):
        self.tenant_id = tenant_id
        self.key = key  # id, created_at (ids can be reused by a rolled-back SQLite test), version

    @cached_property
    def sheet(self) -> RuleSheet:
        return rule_sheet(self.tenant_id)

    @cached_property
    def assignment_rules(self) -> tuple[AssignmentRule, ...]:
        rules = AssignmentRule.objects.filter(tenant_id=self.tenant_id, active=True).prefetch_related("target_team")
        return tuple(rules.order_by("priority", "id"))

    @cached_property
    def has_reps(self) -> bool:
        """Whether round robin has anyone to consider (whatever their availability today)."""
        return User.objects.filter(tenant_id=self.tenant_id, role=Role.REP).exists()

    @cached_property
    def model(self) -> PredictionModel | None:
        return PredictionModel.objects.active_for(self.tenant_id)


_cache: dict[int, TenantConfig] = {}


def config_for(tenant: Tenant) -> TenantConfig:
    """The tenant's config as of `tenant.config_version`: pass a Tenant row read in this request."""
    key = (tenant.pk, tenant.created_at, tenant.config_version)
    cached = _cache.get(tenant.pk)
    if cached is not None and cached.key == key:
        return cached
    config = _cache[tenant.pk] = TenantConfig(tenant.pk, key)
    return config


def _changed(sender, instance, **kwargs) -> None:
    # The rule's cached tenant is often the very object the caller goes on using.
    cached = instance._state.fields_cache.get("tenant")
    Tenant.objects.bump_config_version(cached if cached is not None else instance.tenant_id)


for model in (ScoringRule, AssignmentRule, PredictionModel):
    post_save.connect(_changed, sender=model, dispatch_uid=f"config-save-{model.__name__}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"config-delete-{model.__name__}")


def _user_changed(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login", "last_assigned_at", "password"}:
        return  # logins and rotations change nobody's place in routing
    if instance.tenant_id is not None:
        Tenant.objects.bump_config_version(instance.tenant_id)


post_save.connect(_user_changed, sender=User, dispatch_uid="config-user-save")
post_delete.connect(_user_changed, sender=User, dispatch_uid="config-user-delete")


def _team_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_"):
        _changed(sender, instance)


m2m_changed.connect(_team_changed, sender=AssignmentRule.target_team.through, dispatch_uid="config-team")
