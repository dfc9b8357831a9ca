"""The outbox relay: events leave once, in order, with the body consumers read; none is lost."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.broker import BrokerError, EventPublisher
from crm.models import Event
from crm.outbox import routing_key
from crm.relay import backlog, purge_delivered, relay_pending
from leads.conversion import convert_lead
from leads.lifecycle import change_status
from leads.models import Lead
from tests.api_ids import api_id
from tests.crm.events_support import EventQueue
from tests.factories import LeadFactory

CLOSED_PORT = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def events_queue(settings):
    settings.EVENTS_BROKER_URL = "memory://"
    queue = EventQueue("memory://")
    yield queue
    queue.close()


def test_routing_keys_are_the_event_types_in_dotted_lower_case():
    assert routing_key("LeadCreated") == "lead.created"
    assert routing_key("LeadStatusChanged") == "lead.status_changed"
    assert routing_key("LeadAssigned") == "lead.assigned"
    assert routing_key("LeadConverted") == "lead.converted"


def test_a_captured_lead_is_published_once_its_request_commits(anon_api, channel, events_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_api.post(
            "/api/v1/leads", {"email": "Ada@Example.com", "name": "Ada Lovelace"}, format="json",
            HTTP_X_FORM_KEY=channel.form_key,
        )
    assert response.status_code == 201, response.content
    assert not Event.objects.filter(delivered_at__isnull=True).exists()
    received = events_queue.drain()
    key, body = received[0]
    assert key == "lead.created"
    assert body["event_type"] == "lead.created"
    assert body["lead_id"] == api_id(Lead.objects.get(email="ada@example.com"))
    assert body["email"] == "ada@example.com"
    assert body["source"] == "website_form"
    assert body["new_status"] == "new" and body["old_status"] is None
    assert body["tenant"] == "acme"
    assert body["occurred_at"] == body["timestamp"] and body["occurred_at"].endswith("Z")
    assert len(body["event_id"]) == 36


def test_status_changes_and_conversions_carry_what_consumers_need(tenant, manager, events_queue):
    lead = LeadFactory(tenant=tenant, email="grace@example.com")
    change_status(lead=lead, status="contacted", actor=manager)
    result = convert_lead(lead=lead, actor=manager)
    relay_pending()
    bodies = {key: body for key, body in events_queue.drain()}
    changed = bodies["lead.status_changed"]
    assert (changed["old_status"], changed["new_status"]) == ("new", "contacted")
    assert changed["lead_id"] == api_id(lead) and changed["email"] == "grace@example.com"
    converted = bodies["lead.converted"]
    assert converted["lead_id"] == api_id(lead)
    assert converted["contact_id"] == result.public_ids["contact_id"]
    assert converted["company_id"] == result.public_ids["company_id"]
    assert converted["deal_id"] == result.public_ids["deal_id"] is not None


def test_events_of_a_lead_arrive_in_the_order_they_happened(tenant, manager, events_queue):
    lead = LeadFactory(tenant=tenant)
    for status in ("contacted", "qualified", "converted"):
        if status == "converted":
            convert_lead(lead=lead, actor=manager)
        else:
            change_status(lead=lead, status=status, actor=manager)
    relay_pending(batch_size=1)
    keys = [key for key, body in events_queue.drain() if body["lead_id"] == api_id(lead)]
    assert keys == ["lead.status_changed", "lead.status_changed", "lead.converted"]


def test_an_unreachable_broker_leaves_events_in_the_outbox_until_it_is_back(tenant, manager, settings, events_queue):
    leads = LeadFactory.create_batch(3, tenant=tenant)
    for lead in leads:
        change_status(lead=lead, status="contacted", actor=manager)
    settings.EVENTS_BROKER_URL = CLOSED_PORT
    with pytest.raises(BrokerError):
        relay_pending()
    assert backlog().undelivered == 3

    settings.EVENTS_BROKER_URL = "memory://"
    assert relay_pending() == 3
    assert backlog().undelivered == 0
    assert sorted(body["lead_id"] for _, body in events_queue.drain()) == sorted(api_id(lead) for lead in leads)


class DiesMidBatch(EventPublisher):
    """Publishes the first `survive` messages of a batch, then dies (like a killed relay)."""

    def __init__(self, survive: int) -> None:
        super().__init__()
        self.survive = survive

    def publish_batch(self, messages):
        super().publish_batch(messages[: self.survive])
        raise KeyboardInterrupt("relay killed")


def test_a_relay_killed_mid_batch_redelivers_every_event_on_restart(tenant, manager, events_queue):
    leads = LeadFactory.create_batch(5, tenant=tenant)
    for lead in leads:
        change_status(lead=lead, status="contacted", actor=manager)
    with pytest.raises(KeyboardInterrupt):
        relay_pending(publisher=DiesMidBatch(survive=2))
    assert backlog().undelivered == 5  # nothing was marked delivered

    relay_pending()
    received = [body for _, body in events_queue.drain()]
    assert len(received) == 7  # two went out twice: at least once, never lost
    assert {body["lead_id"] for body in received} == {api_id(lead) for lead in leads}
    # A consumer drops the repeats by event_id: the redelivered copies carry the same id.
    assert len({body["event_id"] for body in received}) == 5


def test_delivered_events_are_purged_after_the_retention_period(tenant, manager, settings, events_queue):
    settings.EVENTS_RETENTION_DAYS = 7
    old, recent, waiting = (LeadFactory(tenant=tenant) for _ in range(3))
    for lead in (old, recent):
        change_status(lead=lead, status="contacted", actor=manager)
    relay_pending()
    now = timezone.now()
    Event.objects.filter(payload__lead_id=api_id(old)).update(delivered_at=now - dt.timedelta(days=8))
    change_status(lead=waiting, status="contacted", actor=manager)
    Event.objects.filter(payload__lead_id=api_id(waiting)).update(created_at=now - dt.timedelta(days=30))

    assert purge_delivered(now=now) == 1
    remaining = set(Event.objects.values_list("payload__lead_id", flat=True))
    assert remaining == {api_id(recent), api_id(waiting)}  # undelivered events stay however old


def test_relay_events_command_delivers_the_backlog(tenant, manager, events_queue, capsys):
    change_status(lead=LeadFactory(tenant=tenant), status="contacted", actor=manager)
    call_command("relay_events")
    assert "Delivered 1 event(s)." in capsys.readouterr().out
    assert [key for key, _ in events_queue.drain()] == ["lead.status_changed"]
