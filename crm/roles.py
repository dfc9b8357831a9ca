"""Roles are the source of a tenant user's permissions: each role reads its group's permissions.

The groups (Sales rep, Sales manager, Tenant admin) are created by a migration with the
defaults below; a platform admin may tune a group's permissions in the admin afterwards.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from .choices import Role

ROLE_GROUPS = {Role.REP: "Sales rep", Role.MANAGER: "Sales manager", Role.ADMIN: "Tenant admin"}

_REP = {
    "leads.lead": ["view", "change", "add"],
    "leads.channel": ["view"],
    "leads.scoringrule": ["view"],
    "leads.sequence": ["view"],
    "crm.activity": ["view", "add", "change"],
    "contacts.contact": ["view", "add", "change"],
    "contacts.company": ["view", "add", "change"],
    "contacts.deal": ["view", "add", "change"],
}
_MANAGER = {
    **_REP,
    "leads.lead": ["view", "change", "add", "delete"],
    "leads.scoringrule": ["view", "add", "change", "delete"],
    "leads.assignmentrule": ["view", "add", "change", "delete"],
    "leads.predictionmodel": ["view"],
    "leads.campaign": ["view", "change"],
    # nurture (leads/nurture/): sequences and their steps, the workspace's nurture and follow-up policy
    "leads.sequence": ["view", "add", "change", "delete"],
    "leads.sequencestep": ["view", "add", "change", "delete"],
    "leads.nurturepolicy": ["view", "add", "change"],
    "leads.enrolmentrule": ["view", "add", "change", "delete"],
    "crm.activity": ["view", "add", "change", "delete"],
    "crm.event": ["view"],
    "crm.user": ["view", "add", "change"],  # reps only: crm.access.check_user_change decides whom
    "contacts.contact": ["view", "add", "change", "delete"],
    "contacts.company": ["view", "add", "change", "delete"],
    "contacts.deal": ["view", "add", "change", "delete"],
}
_ADMIN = {
    **_MANAGER,
    "leads.channel": ["view", "add", "change", "delete"],
    "crm.user": ["view", "add", "change"],
    "crm.apitoken": ["view", "add", "change"],  # change: revoke (tokens are never edited)
    "crm.webhookendpoint": ["view", "add", "change", "delete"],
    "crm.webhookdelivery": ["view", "change"],  # change: resend
}
ROLE_PERMISSIONS = {Role.REP: _REP, Role.MANAGER: _MANAGER, Role.ADMIN: _ADMIN}


def sync_role_groups(apps) -> None:
    """Create the role groups with their default permissions (idempotent; migrations and post_migrate)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Migration-state app configs have no models module, which create_permissions skips.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, name in ROLE_GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        for model_label, actions in ROLE_PERMISSIONS[role].items():
            app_label, model = model_label.split(".")
            group.permissions.add(
                *permission_model.objects.filter(
                    content_type__app_label=app_label, codename__in=[f"{a}_{model}" for a in actions]
                )
            )


class RoleBackend(ModelBackend):
    """Django's model backend, plus the permissions of the group that matches the user's role."""

    def _get_group_permissions(self, user_obj):
        own = super()._get_group_permissions(user_obj)  # type: ignore[misc]  # private hook the stubs omit
        group = ROLE_GROUPS.get(user_obj.role)
        if not group or (user_obj.tenant_id is None and not user_obj.is_superuser):
            return own
        return own | Permission.objects.filter(group__name=group)

