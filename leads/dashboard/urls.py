from django.urls import path

from leads.dashboard.views import dashboard_view

urlpatterns = [
    path("", dashboard_view, name="admin-dashboard"),
]
