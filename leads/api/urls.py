from crm.api.routers import OptionalSlashRouter

from .views import LeadViewSet

router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
