"""Doors of the signed nurture links; the rules are in leads.nurture.service.

- GET /n/u/<token>: a page with a button (mail scanners follow GET links: a GET never unsubscribes);
  POST /n/u/<token>: unsubscribes, whether from that button or a mail client's RFC 8058 one-click POST.
- GET /n/o/<token>: a 1x1 GIF; logs email_opened. GET /n/c/<token>: logs email_clicked, redirects.
A token that is not ours answers 404 (and the pixel still answers a GIF, so mail clients show nothing broken).
"""

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leads.nurture import service

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@csrf_exempt  # RFC 8058: the mail client POSTs without our cookies; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    if request.method == "POST":
        lead = service.unsubscribe_lead(token=token)
        if lead is None:
            raise Http404("Unknown link.")
        return HttpResponse("<!doctype html><title>Unsubscribed</title><p>You are unsubscribed. "
                            "You will get no more of these emails.</p>")
    return HttpResponse(
        "<!doctype html><title>Unsubscribe</title>"
        f'<form method="post" action="{escape(request.path)}"><p>Stop these emails?</p>'
        '<button type="submit">Unsubscribe</button></form>'
    )


@require_http_methods(["GET"])
def opened(request, token: str):
    service.record_email_open(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET"])
def clicked(request, token: str):
    url = service.record_email_click(token=token)
    if not url:
        raise Http404("Unknown link.")
    return HttpResponseRedirect(url)
