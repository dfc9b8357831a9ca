from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .broker import broker_ping
from .celery import app as celery_app

WORKER_PING_SECONDS = 1.0


@require_GET
def health(request):
    """200 when the database answers, 503 when it does not (for load balancers and monitors).

    `?deep=1` also asks the broker and the workers (a second or two): 503 unless all three answer.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": "unreachable", "detail": str(exc)[:200]}, status=503)
    if request.GET.get("deep", "") in {"", "0", "false"}:
        return JsonResponse({"status": "ok", "database": "ok"})
    report = {"database": "ok", "broker": _broker(), "worker": _workers()}
    healthy = report["broker"] == "ok" and report["worker"].startswith("ok")
    return JsonResponse({"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503)


def _broker() -> str:
    try:
        broker_ping(celery_app.conf.broker_url, timeout=2)
    except Exception as exc:  # any transport error means the same thing here
        return f"unreachable: {str(exc)[:200]}"
    return "ok"


def _workers() -> str:
    try:
        answers = celery_app.control.inspect(timeout=WORKER_PING_SECONDS).ping() or {}
    except Exception as exc:
        return f"unreachable: {str(exc)[:200]}"
    return f"ok: {len(answers)} answered" if answers else f"no worker answered within {WORKER_PING_SECONDS:g} s"
