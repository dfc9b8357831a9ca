from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from crm.tokens import TokenRefused, token_authenticate


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`, checked against the stored hashes of API tokens.

    A subclass of DRF's TokenAuthentication for its header parsing and its OpenAPI description
    only; DRF's own token table (rest_framework.authtoken) is not used.
    """

    keyword = "Bearer"

    def authenticate_credentials(self, key):
        try:
            token = token_authenticate(secret=key)
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from exc
        return (token.user, token)
