from .routers import OptionalSlashRouter
from .users import UserViewSet
from .webhooks import WebhookEndpointViewSet

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
