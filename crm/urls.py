from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .api.exceptions import api_not_found
from .health import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before admin.site.urls, whose catch-all would otherwise answer this path.
    path("admin/dashboard/", include("leads.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("", include("leads.capture.urls")),
    path("hooks/", include("leads.api.hook_urls")),  # the ad platforms' webhooks (docs/ad-platforms.md)
    path("", include("leads.tracking.urls")),  # nurture email's signed links (unsubscribe, open, click)
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/", include("contacts.api.urls")),
    path("api/v1/", include("crm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),  # last: only paths no route above took
]

handler404 = "crm.api.exceptions.not_found"
