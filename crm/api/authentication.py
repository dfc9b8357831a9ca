from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF tokens sent the usual way: `Authorization: Bearer <token>`."""

    keyword = "Bearer"
