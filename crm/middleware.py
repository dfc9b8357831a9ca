import re

from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """Answer 413 to a body larger than its path allows, before anything reads or parses it.

    Limits come from REQUEST_BODY_LIMITS ([(path regex, bytes), ...], first match wins), else
    DATA_UPLOAD_MAX_MEMORY_SIZE. Left without this, Django refuses an oversized body only when a
    view touches `request.body`/`POST`, and as a 400 (or a crash in a parser that reads the stream).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limits = [(re.compile(pattern), limit) for pattern, limit in settings.REQUEST_BODY_LIMITS]

    def __call__(self, request):
        limit = self.limit_for(request)
        length = self.content_length(request)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"The request body is {length} bytes; this address accepts at most {limit} bytes."},
                status=413,
            )
        return self.get_response(request)

    def limit_for(self, request) -> int | None:
        for pattern, limit in self.limits:
            if pattern.match(request.path_info):
                return limit
        # File uploads stream to disk under FILE_UPLOAD_* settings (e.g. a large CSV import in the
        # admin); DATA_UPLOAD_MAX_MEMORY_SIZE is about what is held in memory, so it is not theirs.
        if request.content_type.startswith("multipart/"):
            return None
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @staticmethod
    def content_length(request) -> int:
        # A missing or malformed Content-Length reads as an empty body to Django, so it is 0 here too.
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
