# The Celery app loads with Django, so `shared_task`s bind to it and `celery -A crm` finds it.
from .celery import app as celery_app

__all__ = ("celery_app",)
