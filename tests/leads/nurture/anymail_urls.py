"""The project's URLs with django-anymail's webhooks mounted, as leads/tracking/urls.py mounts them once
ANYMAIL["WEBHOOK_SECRET"] is set (URL modules are read once per process, so tests name this one)."""

from django.urls import include, path

from crm.urls import urlpatterns as project

urlpatterns = [*project, path("anymail/", include("anymail.urls"))]
