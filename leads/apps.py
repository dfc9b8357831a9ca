from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_dashboard_triggers(using, **kwargs) -> None:
    # SQLite drops a table's triggers when a migration rebuilds the table; reinstalling them is idempotent.
    from django.db import connections

    from leads import dashboard_triggers

    connection = connections[using]
    if dashboard_triggers.STALE in connection.introspection.table_names():  # not when migrated back before it
        dashboard_triggers.install(connection)


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and channels"

    def ready(self) -> None:
        from leads import tasks  # noqa: F401  (registers the scheduled tasks in every process)
        from leads.capture import cors  # noqa: F401  (connects the per-channel CORS decision to django-cors-headers)
        from leads.rules import config  # noqa: F401  (rule and model changes invalidate the per-process cache)
        from leads.nurture import policy  # noqa: F401  (nurture policy changes invalidate its per-process cache)
        post_migrate.connect(_reinstall_dashboard_triggers, sender=self)
        from leads.tracking import bounces  # noqa: F401  (a bounced nurture email ends the lead's sequence)
