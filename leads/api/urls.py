from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")

urlpatterns = router.urls
