from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("n/u/<str:token>", views.unsubscribe, name="nurture-unsubscribe"),
    path("n/o/<str:token>", views.opened, name="nurture-open"),
    path("n/c/<str:token>", views.clicked, name="nurture-click"),
]

# The mail provider's webhooks (django-anymail): bounces end a lead's sequence (bounces.py). Mounted only with a
# webhook secret, which anymail's views require.
if getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET") or getattr(settings, "ANYMAIL_WEBHOOK_SECRET", None):
    urlpatterns.append(path("anymail/", include("anymail.urls")))
