from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .channels import ChannelViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
