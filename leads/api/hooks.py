"""`/hooks/...`: the ad platforms' webhooks (no login; each checks the platform's signature or key).

Plain Django views rather than API views: they answer the platforms, not API clients, and the
Facebook hook must read the raw body to check its signature (and should only verify and queue).
Documented in docs/api.md and docs/ad-platforms.md, outside the OpenAPI schema of /api/v1/.
"""

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from leads.integrations import service

SIGNATURE_HEADER = "X-Hub-Signature-256"


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def facebook_hook(request):
    """GET: the subscription handshake. POST: a delivery of leadgen changes, queued for fetching."""
    if request.method == "GET":
        try:
            challenge = service.facebook_handshake(
                mode=request.GET.get("hub.mode"), verify_token=request.GET.get("hub.verify_token"),
                challenge=request.GET.get("hub.challenge"),
            )
        except service.WebhookRefused as exc:
            return JsonResponse({"detail": str(exc)}, status=403)
        return HttpResponse(challenge, content_type="text/plain")
    try:
        queued = service.facebook_webhook_receive(body=request.body, signature=request.headers.get(SIGNATURE_HEADER))
    except service.WebhookRefused as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    except service.WebhookInvalid as exc:
        return JsonResponse({exc.field: [str(exc)]}, status=400)
    return JsonResponse({"status": "received", "queued": len(queued)})


@csrf_exempt
@never_cache
@require_POST
def google_hook(request, channel_key: str):
    """A Google Ads lead form's webhook: the lead is captured before the answer."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "Send the lead form's JSON body."}, status=400)
    try:
        outcome = service.google_lead_receive(channel_key=channel_key, body=body)
    except service.ChannelNotFound as exc:
        return JsonResponse({"detail": str(exc)}, status=404)
    except service.WebhookRefused as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    except service.WebhookInvalid as exc:
        return JsonResponse({exc.field: [str(exc)]}, status=400)
    return JsonResponse({"status": outcome.ad_lead.status})
