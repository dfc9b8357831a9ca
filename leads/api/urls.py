from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .nurture import SequenceViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("sequences", SequenceViewSet, basename="sequence")

urlpatterns = router.urls
