from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .channels import ChannelViewSet
from .nurture import SequenceViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("channels", ChannelViewSet, basename="channel")
router.register("sequences", SequenceViewSet, basename="sequence")

urlpatterns = router.urls
