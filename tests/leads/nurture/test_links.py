"""The nurture email's signed links: one-click unsubscribe (RFC 8058), the open pixel, the click redirect."""

import re

import pytest
from django.core import mail

from crm.choices import ActivityKind
from crm.models import Activity
from leads.models import Enrolment
from leads.nurture import service
from leads.nurture_models import ExitReason, NurtureStatus
from tests.factories import LeadFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(tenant, run):
    """A lead of a three-step sequence, its first email sent."""
    lead = LeadFactory(tenant=tenant, email="ada@example.com")
    service.enrol_lead(lead=lead, sequence=three_step_sequence(tenant), actor=None)
    run()
    (message,) = mail.outbox
    return lead, message


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_one_click_unsubscribe_ends_the_sequence_and_the_email(client, sent, run):
    lead, message = sent
    url = path_of(message.extra_headers["List-Unsubscribe"].strip("<>"))
    assert url in message.body  # the visible link too

    assert client.get(url).status_code == 200  # a scanner following the link changes nothing
    lead.refresh_from_db()
    assert lead.unsubscribed_at is None

    response = client.post(url, {"List-Unsubscribe": "One-Click"})  # what a mail client sends (RFC 8058)
    assert response.status_code == 200
    assert client.post(url).status_code == 200  # twice is fine
    lead.refresh_from_db()
    assert lead.unsubscribed_at is not None and lead.nurture_status == NurtureStatus.EXITED
    assert (lead.marketing_consent, lead.consent_source) == ("withdrawn", "unsubscribe")  # docs/privacy.md
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.UNSUBSCRIBED

    service.enrol_lead(lead=lead, sequence=lead.current_sequence, actor=None)  # enrolled again by hand
    run()
    assert len(mail.outbox) == 1  # still no email for them


def test_a_forged_or_altered_link_is_refused(client, sent):
    lead, message = sent
    url = path_of(message.extra_headers["List-Unsubscribe"].strip("<>"))
    assert client.post(url[:-3] + "abc").status_code == 404
    assert client.post("/n/u/not-a-token").status_code == 404
    lead.refresh_from_db()
    assert lead.unsubscribed_at is None


def test_opens_and_clicks_are_logged_as_activities(client, sent):
    lead, message = sent
    html = message.alternatives[0][0]
    pixel = path_of(re.search(r'<img src="([^"]+)"', html).group(1).replace("&amp;", "&"))
    click = path_of(re.search(r'<a href="([^"]+/n/c/[^"]+)"', html).group(1).replace("&amp;", "&"))

    response = client.get(pixel)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    response = client.get(click)
    assert response.status_code == 302 and response["Location"] == "https://example.com/guide"

    kinds = list(Activity.objects.filter(lead=lead, kind__in=[ActivityKind.EMAIL_OPENED, ActivityKind.EMAIL_CLICKED])
                 .values_list("kind", "data__url"))
    assert sorted(kinds) == [("email_clicked", "https://example.com/guide"), ("email_opened", None)]
    # The click redirect goes only where the signed link says: a forged one is not an open redirect.
    assert client.get("/n/c/forged").status_code == 404
    assert client.get("/n/o/forged").status_code == 200  # the pixel still renders
