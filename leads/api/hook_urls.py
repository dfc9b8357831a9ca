"""`/hooks/`: webhooks of the ad platforms (leads/api/hooks.py)."""

from django.urls import path

from leads.api import hooks

urlpatterns = [
    path("facebook", hooks.facebook_hook, name="hook-facebook"),
    path("google/<str:channel_key>", hooks.google_hook, name="hook-google"),
]
