from crm.api.routers import OptionalSlashRouter

from .views import CompanyViewSet, ContactViewSet, DealViewSet

router = OptionalSlashRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("companies", CompanyViewSet, basename="company")
router.register("deals", DealViewSet, basename="deal")

urlpatterns = router.urls
