from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and channels"

    def ready(self) -> None:
        from leads import tasks  # noqa: F401  (registers the scheduled tasks in every process)
        from leads.capture import cors  # noqa: F401  (connects the per-channel CORS decision to django-cors-headers)
        from leads.rules import config  # noqa: F401  (rule and model changes invalidate the per-process cache)
        from leads.nurture import policy  # noqa: F401  (nurture policy changes invalidate its per-process cache)
        from leads.tracking import bounces  # noqa: F401  (a bounced nurture email ends the lead's sequence)
