"""`Idempotency-Key`: a retry replays the first answer; a reused key with a new body is 422."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import Activity, Event
from leads.models import IdempotencyRecord, Lead
from tests.conftest import api_client_for
from tests.factories import ChannelFactory, ManagerFactory
from tests.receipts import assert_receipt

pytestmark = pytest.mark.django_db


def form_post(client, channel, body, key):
    return client.post("/api/v1/leads", body, format="json", HTTP_X_FORM_KEY=channel.form_key,
                       HTTP_IDEMPOTENCY_KEY=key)


def api_post(client, body, key):
    return client.post("/api/v1/leads", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_form_post_replays_the_answer_and_creates_nothing_more(anon_api, channel):
    body = {"email": "retry@x.example", "name": "Re Try"}

    first = form_post(anon_api, channel, body, "key-1")
    again = form_post(anon_api, channel, body, "key-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert_receipt(first.json(), email=body["email"])
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Lead.objects.count() == 1
    assert Activity.objects.count() == 1 and Event.objects.count() == 1, "the open-lead merge did not run either"


def test_an_integrators_retry_gets_the_same_status_and_body(api):
    body = {"email": "int@x.example", "first_name": "Ida"}

    first = api_post(api, body, "order-77")
    again = api_post(api, body, "order-77")

    assert (first.status_code, again.status_code) == (201, 201), "not 200 'updated': the first answer"
    assert first.json() == again.json()
    assert Lead.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(api):
    assert api_post(api, {"email": "one@x.example"}, "k").status_code == 201

    response = api_post(api, {"email": "two@x.example"}, "k")

    assert response.status_code == 422
    assert "different request body" in response.json()["detail"]
    assert list(Lead.objects.values_list("email", flat=True)) == ["one@x.example"]


def test_a_refused_request_does_not_use_up_its_key(api):
    bad = api_post(api, {"email": "not-an-email"}, "fix-and-retry")
    fixed = api_post(api, {"email": "fixed@x.example"}, "fix-and-retry")

    assert (bad.status_code, fixed.status_code) == (400, 201)
    assert IdempotencyRecord.objects.get().status_code == 201


def test_a_rate_limited_request_does_not_use_up_its_key(anon_api, channel):
    channel.rate_limit_per_hour = 0
    channel.save()
    assert form_post(anon_api, channel, {"email": "wait@x.example"}, "k").status_code == 429
    assert not IdempotencyRecord.objects.exists()


def test_a_replay_is_not_counted_against_the_rate_limit(anon_api, channel):
    channel.rate_limit_per_hour = 1
    channel.save()
    body = {"email": "once@x.example"}

    codes = [form_post(anon_api, channel, body, "same").status_code for _ in range(3)]

    assert codes == [201, 201, 201]


def test_keys_are_scoped_to_the_channel(anon_api, tenant):
    one, two = ChannelFactory(tenant=tenant), ChannelFactory(tenant=tenant)

    form_post(anon_api, one, {"email": "a@x.example"}, "shared-key")
    form_post(anon_api, two, {"email": "b@x.example"}, "shared-key")

    assert Lead.objects.count() == 2


def test_keys_are_scoped_to_the_calling_user(api, tenant):
    colleague = api_client_for(ManagerFactory(tenant=tenant, username="colleague"))

    assert api_post(api, {"email": "a@x.example"}, "shared-key").status_code == 201
    assert api_post(colleague, {"email": "b@x.example"}, "shared-key").status_code == 201
    assert Lead.objects.count() == 2


def test_a_key_older_than_a_day_is_forgotten(api):
    body = {"email": "old@x.example"}
    assert api_post(api, body, "daily").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Lead.objects.update(status="disqualified", disqualification_reason="Test")

    response = api_post(api, {"email": "old@x.example", "company": "Changed"}, "daily")

    assert response.status_code == 201, "an expired key is neither replayed nor a conflict"
    assert Lead.objects.count() == 2
    assert IdempotencyRecord.objects.get().created_at > timezone.now() - timedelta(minutes=1)


def test_the_purge_command_deletes_expired_keys_everywhere(api, capsys):
    api_post(api, {"email": "a@x.example"}, "old")
    api_post(api, {"email": "b@x.example"}, "fresh")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    call_command("purge_idempotency_keys")

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert "Deleted 1 expired" in capsys.readouterr().out


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_an_unusable_key_is_400_naming_the_header(api, key):
    response = api_post(api, {"email": "a@x.example"}, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Lead.objects.exists()


def test_spam_answers_are_replayed_without_counting_twice(anon_api, channel):
    body = {"email": "bot@x.example", "website_url": "x"}

    form_post(anon_api, channel, body, "bot-key")
    form_post(anon_api, channel, body, "bot-key")

    channel.refresh_from_db()
    assert channel.blocked_count == 1


def test_beat_purges_expired_keys_daily(api):
    from django.conf import settings

    from crm.celery import app as celery_app

    api_post(api, {"email": "a@x.example"}, "old")
    api_post(api, {"email": "b@x.example"}, "fresh")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["schedule"].hour == {3}, "once a day"

    celery_app.tasks[entry["task"]].delay()  # what beat sends (run in-process in tests)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
