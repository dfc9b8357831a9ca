from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from crm.access import AccessDenied
from crm.versions import StaleEdit


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The row changed after you read it; read it again and reapply your change."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus the domain's errors: ValidationErrors as 400 with field messages, AccessDenied as 403,
    StaleEdit as 412."""
    if isinstance(exc, StaleEdit):
        exc = PreconditionFailed(str(exc))
    elif isinstance(exc, AccessDenied):
        exc = exceptions.PermissionDenied(str(exc))  # DRF would answer a Django PermissionDenied with its own words
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """Django's 404 page, but JSON under /api/ (a URL that matches no route, e.g. /api/v1/leads/abc)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing; without this a POST answers Django's HTML CSRF page, not the 404
def api_not_found(request, *args, **kwargs):
    """The last route under /api/: JSON 404 even when DEBUG shows Django's pages (make run)."""
    return JsonResponse({"detail": "Not found."}, status=404)
