from crm.api.routers import OptionalSlashRouter

from .activities import ActivityViewSet
from .channels import ChannelViewSet
from .nurture import SequenceViewSet
from .privacy import PrivacyViewSet
from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("channels", ChannelViewSet, basename="channel")
router.register("sequences", SequenceViewSet, basename="sequence")
router.register("privacy", PrivacyViewSet, basename="privacy")

urlpatterns = router.urls
