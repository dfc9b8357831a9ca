"""A burst of commits that write events asks for one relay run, not one broker message each."""

from unittest import mock

import pytest

from crm import outbox
from crm.models import Event
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kicks(monkeypatch):
    sent = []
    task = mock.Mock(apply_async=lambda **kwargs: sent.append(kwargs))
    monkeypatch.setattr(outbox, "current_app", mock.Mock(tasks={outbox.RELAY_TASK: task}))
    monkeypatch.setattr(outbox, "_last_kick", 0.0)
    return sent


def test_commits_within_the_interval_share_one_relay_run(settings, kicks):
    settings.EVENTS_RELAY_KICK_SECONDS = 60
    tenant = TenantFactory()

    for _ in range(5):
        Event.objects.create(tenant=tenant, type="LeadCreated", payload={})

    assert len(kicks) == 1


def test_with_no_interval_every_commit_kicks(settings, kicks):
    settings.EVENTS_RELAY_KICK_SECONDS = 0
    tenant = TenantFactory()

    for _ in range(3):
        Event.objects.create(tenant=tenant, type="LeadCreated", payload={})

    assert len(kicks) == 3
