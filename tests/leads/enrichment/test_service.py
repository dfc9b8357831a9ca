"""Enrichment after a capture: what reaches the lead, the timeline, the score; retries, errors, the workspace switch,
the provider's rate limit."""

from decimal import Decimal
from unittest import mock

import pytest

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.capture.service import capture_lead
from leads.enrichment import service as enrichment
from leads.enrichment.providers import Found, ProviderError
from leads.models import Lead, ScoringRule
from leads.tasks import enrich_lead as enrich_task
from tests.api_ids import api_id
from tests.factories import CompanyFactory, LeadFactory

from .fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


class CountingProvider:
    """A provider that answers from a class-level script and counts its calls (named by dotted path in settings)."""

    name = "counting"
    default_rate = ""
    calls: list = []
    answer: dict = {"industry": "Software"}

    def lookup(self, query):
        CountingProvider.calls.append(query)
        return Found(fields=dict(CountingProvider.answer))


COUNTING = "tests.leads.enrichment.test_service.CountingProvider"


@pytest.fixture(autouse=True)
def reset_counting():
    CountingProvider.calls = []
    CountingProvider.answer = {"industry": "Software"}


@pytest.fixture
def fake(settings):
    server = FakeProvider().start()
    settings.ENRICHMENT_PROVIDER = "http"
    settings.ENRICHMENT_HTTP_URL = server.url
    settings.ENRICHMENT_HTTP_KEY = "sk_test"
    settings.ENRICHMENT_TIMEOUT_SECONDS = 0.5
    settings.ENRICHMENT_RETRY_DELAYS = [0, 0]
    yield server
    server.stop()


def run_task(lead_id):
    """The task as the engine runs it, retries included (eagerly, their countdowns skipped)."""
    conf = enrich_task.app.conf
    propagates, conf.task_eager_propagates = conf.task_eager_propagates, False  # else a Retry is raised, not followed
    try:
        result = enrich_task.apply(args=[lead_id])
    finally:
        conf.task_eager_propagates = propagates
    assert result.successful(), result.traceback
    return result.get()


def capture(tenant, on_commit, **data):
    with on_commit(execute=True):
        result = capture_lead(tenant=tenant, data=data, source="api")
    return Lead.objects.get(pk=result.lead.pk)


def enriched_entries(lead):
    return list(Activity.objects.filter(lead=lead, kind=ActivityKind.ENRICHED))


# --- after a capture ---------------------------------------------------------------------------


def test_a_captured_lead_is_enriched_from_the_workspace_company_and_its_phone(
    tenant, django_capture_on_commit_callbacks
):
    CompanyFactory(tenant=tenant, name="Initech", domain="initech.io", industry="Software", employee_count=250)
    lead = capture(tenant, django_capture_on_commit_callbacks, email="ada@initech.io", phone="+4915123456789",
                   first_name="Ada")
    assert lead.company == "Initech"
    assert lead.industry == "Software"
    assert lead.employee_count == 250
    assert lead.website == "https://initech.io"
    assert lead.country == "DE"
    data = lead.enrichment_data
    assert data["provider"] == "offline"
    assert data["fetched_at"]
    assert data["fields"]["company_domain"] == "initech.io"
    assert data["fields"]["phone_type"] == "mobile"
    assert set(data["filled"]) == {"company", "industry", "employee_count", "website", "country"}
    [entry] = enriched_entries(lead)
    assert entry.subject.startswith("Enriched by offline: ")
    assert "company" in entry.subject and "website" in entry.subject
    assert entry.data["filled"]["company"] == "Initech"
    assert entry.actor is None


def test_the_lead_is_visible_through_the_api_with_what_enrichment_added(
    tenant, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/leads", {"email": "bo@hooli.example"}, format="json")
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(email="bo@hooli.example")
    body = api.get(f"/api/v1/leads/{api_id(lead)}").json()
    assert body["website"] == "https://hooli.example"


def test_a_free_mailbox_lead_gets_no_company_website(tenant, django_capture_on_commit_callbacks):
    lead = capture(tenant, django_capture_on_commit_callbacks, email="ada@gmail.com")
    assert lead.website == "" and lead.company == ""
    assert lead.enrichment_data["provider"] == "offline"
    assert enriched_entries(lead) == []  # nothing found, nothing to say on the timeline


def test_only_empty_fields_are_filled_never_what_the_person_or_a_rep_gave(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    CountingProvider.answer = {"company": "Initech Ltd", "industry": "Software", "job_title": "CTO",
                               "website": "https://initech.io"}
    lead = LeadFactory(tenant=tenant, company="Initech", job_title="", industry="", website="",
                       edited_fields=["job_title"])  # a rep cleared the title: it stays cleared
    assert enrichment.enrich_lead(lead_id=lead.pk) == "enriched"
    lead.refresh_from_db()
    assert lead.company == "Initech"  # what the person gave
    assert lead.job_title == ""  # what a rep cleared
    assert lead.industry == "Software" and lead.website == "https://initech.io"
    assert lead.enrichment_data["filled"] == ["industry", "website"]
    assert lead.enrichment_data["fields"]["company"] == "Initech Ltd"  # kept as found, not written
    [entry] = enriched_entries(lead)
    assert entry.data["kept"] == {"company": "Initech Ltd", "job_title": "CTO"}
    assert "Kept the lead's own values for: company, job title" in entry.body


def test_values_that_do_not_fit_a_field_are_not_written(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    CountingProvider.answer = {"country": "Germany", "employee_count": "lots", "annual_revenue": -5,
                               "website": "not a url at all", "industry": "x" * 300}
    lead = LeadFactory(tenant=tenant, country="", employee_count=None, industry="", website="")
    enrichment.enrich_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert (lead.country, lead.employee_count, lead.annual_revenue, lead.website) == ("", None, None, "")
    assert lead.industry == "x" * 100  # cut to the field's length


def test_filling_writes_a_lead_updated_event_and_rescores_the_lead(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    ScoringRule.objects.create(tenant=tenant, name="Software", category="firmographic", field="industry",
                               operator="equals", value="Software", points=30)
    lead = LeadFactory(tenant=tenant, industry="")
    before = lead.score_total
    enrichment.enrich_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.score_total == before + 30
    assert any(f["name"] == "Software" for f in lead.score_factors)
    event = Event.objects.filter(type=EventType.LEAD_UPDATED).latest("id")
    assert event.payload["lead_id"] == api_id(lead)  # events name leads by public id
    assert event.payload["fields"] == ["industry"]
    assert event.payload["enriched_by"] == "counting"


def test_a_lead_is_looked_up_once_per_provider_unless_forced(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    lead = LeadFactory(tenant=tenant, industry="")
    assert enrichment.enrich_lead(lead_id=lead.pk) == "enriched"
    assert enrichment.enrich_lead(lead_id=lead.pk) == "skipped"  # a task delivered twice
    assert len(CountingProvider.calls) == 1
    assert enrichment.enrich_lead(lead_id=lead.pk, force=True) == "enriched"
    assert len(CountingProvider.calls) == 2


# --- the workspace switch ----------------------------------------------------------------------


def test_a_workspace_with_enrichment_off_never_asks_the_provider(tenant, settings, django_capture_on_commit_callbacks):
    settings.ENRICHMENT_PROVIDER = COUNTING
    tenant.enrichment_enabled = False
    tenant.save()
    with mock.patch.object(enrichment, "_queue") as queue:
        lead = capture(tenant, django_capture_on_commit_callbacks, email="ada@initech.io")
    queue.assert_not_called()
    # switched off after the task was queued: the task does nothing either
    assert enrichment.enrich_lead(lead_id=lead.pk) == "skipped"
    assert CountingProvider.calls == []
    lead.refresh_from_db()
    assert lead.enrichment_data == {} and enriched_entries(lead) == []


# --- the rate limit ----------------------------------------------------------------------------


def test_the_provider_rate_limit_holds_calls_back(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    settings.ENRICHMENT_RATE_LIMITS = {"counting": "2/m"}
    leads = [LeadFactory(tenant=tenant, industry="") for _ in range(3)]
    with mock.patch("leads.enrichment.ratelimit.time.time", return_value=600.0):  # 10:00 into the hour
        enrichment.enrich_lead(lead_id=leads[0].pk)
        enrichment.enrich_lead(lead_id=leads[1].pk)
        with pytest.raises(enrichment.RateLimited) as held:
            enrichment.enrich_lead(lead_id=leads[2].pk)
    assert len(CountingProvider.calls) == 2  # the third call was not made
    assert held.value.wait == pytest.approx(60.0)  # until the next minute
    with mock.patch("leads.enrichment.ratelimit.time.time", return_value=660.0):
        assert enrichment.enrich_lead(lead_id=leads[2].pk) == "enriched"
    assert len(CountingProvider.calls) == 3


def test_a_rate_limited_task_waits_without_using_up_an_attempt(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    lead = LeadFactory(tenant=tenant, industry="")
    waits = iter([12.5, 0.0])
    with mock.patch("leads.enrichment.ratelimit.take", side_effect=lambda *a, **k: next(waits)), \
            mock.patch.object(enrich_task, "retry", wraps=enrich_task.retry) as retry:
        run_task(lead.pk)
    assert retry.call_args.kwargs["countdown"] == 12.5
    assert retry.call_args.kwargs["kwargs"]["attempt"] == 0
    lead.refresh_from_db()
    assert lead.enrichment_data["attempts"] == 1
    assert len(CountingProvider.calls) == 1


# --- the HTTP provider through the task: retries, then a recorded error ------------------------


def test_a_5xx_is_retried_with_backoff_and_the_next_answer_is_used(tenant, fake):
    fake.answers = [(503, "busy"), (200, {"company": {"name": "Initech", "domain": "initech.io",
                                                      "category": {"industry": "Software"}}})]
    lead = LeadFactory(tenant=tenant, email="ada@initech.io", company="", industry="", website="")
    with mock.patch.object(enrich_task, "retry", wraps=enrich_task.retry) as retry:
        run_task(lead.pk)
    assert retry.call_args.kwargs["countdown"] == 0  # ENRICHMENT_RETRY_DELAYS[0]
    assert len(fake.asked) == 2
    lead.refresh_from_db()
    assert (lead.company, lead.industry, lead.website) == ("Initech", "Software", "https://initech.io")
    assert lead.enrichment_data["provider"] == "http"
    assert lead.enrichment_data["attempts"] == 2
    assert "error" not in lead.enrichment_data


def test_a_provider_down_through_every_retry_is_recorded_on_the_lead(tenant, fake):
    fake.answers = [(502, "bad gateway")]
    lead = LeadFactory(tenant=tenant, email="ada@initech.io", industry="")
    run_task(lead.pk)
    assert len(fake.asked) == 3  # the first try and two retries (ENRICHMENT_RETRY_DELAYS)
    lead.refresh_from_db()
    data = lead.enrichment_data
    assert data["error"] == "The provider answered HTTP 502: bad gateway"
    assert data["failed_at"] and data["attempts"] == 3
    assert lead.industry == ""
    assert enriched_entries(lead) == []


def test_a_timeout_is_retried_then_recorded(tenant, fake, settings):
    settings.ENRICHMENT_RETRY_DELAYS = [0]
    fake.answers = ["hang"]
    lead = LeadFactory(tenant=tenant, email="ada@initech.io")
    run_task(lead.pk)
    assert len(fake.asked) == 2
    lead.refresh_from_db()
    assert lead.enrichment_data["error"] == "The provider did not answer within 0.5 s."


def test_bad_json_is_recorded_at_once_without_retrying(tenant, fake):
    fake.answers = [(200, "{not json")]
    lead = LeadFactory(tenant=tenant, email="ada@initech.io")
    run_task(lead.pk)
    assert len(fake.asked) == 1
    lead.refresh_from_db()
    assert lead.enrichment_data["error"] == "The provider's answer is not JSON: {not json"
    assert lead.enrichment_data["attempts"] == 1


def test_a_later_success_clears_the_recorded_error(tenant, fake):
    fake.answers = [(200, "{not json"), (200, {"company": {"name": "Initech"}})]
    lead = LeadFactory(tenant=tenant, email="ada@initech.io", company="")
    run_task(lead.pk)
    run_task(lead.pk)  # an error does not count as done
    lead.refresh_from_db()
    assert lead.company == "Initech"
    assert "error" not in lead.enrichment_data


def test_a_lead_deleted_before_its_lookup_is_skipped(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    lead = LeadFactory(tenant=tenant)
    lead_id = lead.pk
    Lead.objects.filter(pk=lead_id).delete()
    assert run_task(lead_id) == "skipped"
    assert CountingProvider.calls == []


def test_revenue_is_kept_as_text_in_the_json(tenant, settings):
    settings.ENRICHMENT_PROVIDER = COUNTING
    CountingProvider.answer = {"annual_revenue": "1200.5"}
    lead = LeadFactory(tenant=tenant, annual_revenue=None)
    enrichment.enrich_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.annual_revenue == Decimal("1200.50")
    assert lead.enrichment_data["fields"]["annual_revenue"] == "1200.50"


def test_a_provider_error_that_is_final_is_never_raised_to_the_caller(tenant, settings):
    class Broken:
        name, default_rate = "broken", ""

        def lookup(self, query):
            raise ProviderError("boom", retryable=True)

    lead = LeadFactory(tenant=tenant)
    with pytest.raises(ProviderError):
        enrichment.enrich_lead(lead_id=lead.pk, final=False, provider=Broken())
    assert enrichment.enrich_lead(lead_id=lead.pk, final=True, attempt=4, provider=Broken()) == "failed"
    lead.refresh_from_db()
    assert lead.enrichment_data["error"] == "boom" and lead.enrichment_data["attempts"] == 5


# --- the admin's "Enrich selected leads again" and a rep's edit racing a lookup -----------------


def test_the_admin_action_asks_again_for_the_selected_leads(client, tenant, manager, settings,
                                                             django_capture_on_commit_callbacks):
    settings.ENRICHMENT_PROVIDER = COUNTING
    lead = LeadFactory(tenant=tenant, industry="", enrichment_data={
        "provider": "counting", "error": "HTTP 503", "failed_at": "2026-03-02T11:00:00+00:00", "attempts": 5})
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/leads/lead/", {"action": "enrich_selected", "_selected_action": [lead.pk]},
                               follow=True)
    assert "Enrichment asked for 1 lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.industry == "Software"
    assert "error" not in lead.enrichment_data


def test_a_value_a_rep_saves_during_the_lookup_is_kept(tenant, settings):
    lead = LeadFactory(tenant=tenant, industry="")

    class RepEditsMeanwhile:
        name, default_rate = "slow", ""

        def lookup(self, query):
            Lead.objects.filter(pk=lead.pk).update(industry="Retail")  # saved while the provider was thinking
            return Found(fields={"industry": "Software"})

    enrichment.enrich_lead(lead_id=lead.pk, provider=RepEditsMeanwhile())
    lead.refresh_from_db()
    assert lead.industry == "Retail"
    assert lead.enrichment_data["filled"] == []
    [entry] = enriched_entries(lead)
    assert entry.subject == "Enrichment (slow): nothing new to fill"
    assert entry.data["kept"] == {"industry": "Software"}
