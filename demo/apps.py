from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` (manage.py seed_demo); no models, outside the domain apps."""

    name = "demo"
    verbose_name = "Demo data"
