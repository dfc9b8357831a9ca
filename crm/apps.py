from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _restore_role_groups(sender, apps=None, **kwargs) -> None:
    # The role groups come from a data migration, which `flush` (and every transactional test)
    # wipes; post_migrate runs after both (flush sends no `apps`: the live registry then).
    from django.apps import apps as live_apps

    from .roles import sync_role_groups

    sync_role_groups(apps or live_apps)


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Workspace and team"

    def ready(self) -> None:
        # checks: the deploy checks; tasks: services queue tasks by name, in any process.
        from . import checks, tasks  # noqa: F401

        post_migrate.connect(_restore_role_groups, sender=self, dispatch_uid="crm-role-groups")
