from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .privacy import PrivacyViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("privacy", PrivacyViewSet, basename="privacy")

urlpatterns = router.urls
