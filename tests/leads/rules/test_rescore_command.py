"""manage.py rescore_leads: set-based rescoring after a rule change, per tenant or all, with progress."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm.choices import ActivityKind
from leads.choices import LeadStatus
from leads.models import Lead, ScoringRule
from leads.rules.sheet import rule_sheet
from tests.factories import ActivityFactory, LeadFactory, TenantFactory

pytestmark = pytest.mark.django_db


class Terminal(StringIO):
    def isatty(self):
        return True


def rescore(*args, stdout=None) -> str:
    out = stdout or StringIO()
    call_command("rescore_leads", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def vp_rule(tenant):
    return ScoringRule.objects.create(
        tenant=tenant, name="VP title", category="demographic", field="job_title", operator="contains", value="vp",
        points=20,
    )


def test_rescores_every_lead_after_a_rule_change(tenant, vp_rule):
    vps = [LeadFactory(tenant=tenant, job_title="VP Sales") for _ in range(3)]
    clerk = LeadFactory(tenant=tenant, job_title="Clerk")
    rescore()
    assert [Lead.objects.get(pk=x.pk).score_band for x in vps] == ["cold"] * 3

    vp_rule.points = 45
    vp_rule.save()
    out = rescore()

    for lead in vps:
        lead.refresh_from_db()
        assert (lead.score_total, lead.score_band, lead.grade) == (45, "warm", "F")
        assert lead.score_factors == [{"rule_id": vp_rule.pk, "name": "VP title", "category": "demographic", "points": 45}]
        assert lead.score_version == rule_sheet(tenant).version
    clerk.refresh_from_db()
    assert (clerk.score_total, clerk.score_factors) == (0, [])
    assert f"acme: 4 leads, 1 rule (version {rule_sheet(tenant).version}), 3 changed band, 0 auto-qualified" in out
    assert re.search(r"^Rescored 4 leads in \d+\.\d s .*: 3 changed band, 0 auto-qualified\.$", out, re.MULTILINE)


def test_tenant_option_leaves_other_tenants_alone(tenant, other_tenant, vp_rule):
    ScoringRule.objects.create(tenant=other_tenant, name="VP", category="demographic", field="job_title",
                               operator="contains", value="vp", points=30)
    ours = LeadFactory(tenant=tenant, job_title="VP")
    theirs = LeadFactory(tenant=other_tenant, job_title="VP", score_total=7)

    out = rescore("--tenant", "acme")

    assert Lead.objects.get(pk=ours.pk).score_total == 20
    theirs.refresh_from_db()
    assert (theirs.score_total, theirs.score_version, theirs.score_updated_at) == (7, "", None)
    assert "globex" not in out


def test_prints_progress_per_batch_when_not_a_terminal(tenant, vp_rule):
    for _ in range(5):
        LeadFactory(tenant=tenant, job_title="VP")

    out = rescore("--batch-size", "2")

    assert out.splitlines()[:4] == [
        "acme: rescoring 5 leads",
        "acme: 2/5 leads (40%)",
        "acme: 4/5 leads (80%)",
        "acme: 5/5 leads (100%)",
    ]


def test_draws_a_progress_bar_on_a_terminal(tenant, vp_rule):
    LeadFactory(tenant=tenant, job_title="VP")

    out = rescore(stdout=Terminal())

    assert "acme" in out and "1/1" in out
    assert "Rescored 1 lead in" in out


def test_auto_qualifies_like_scoring_one_lead_at_a_time(tenant):
    ScoringRule.objects.create(tenant=tenant, name="Demo", category="behavioural", field="demo_requested",
                               operator="activity_count", value="1", points=85)
    lead = LeadFactory(tenant=tenant, status=LeadStatus.CONTACTED)
    ActivityFactory(lead=lead, kind=ActivityKind.DEMO_REQUESTED)

    out = rescore()

    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUALIFIED
    assert "1 auto-qualified." in out


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_give_the_same_scores():
    tenant = TenantFactory(slug="acme")
    ScoringRule.objects.create(tenant=tenant, name="Views", category="behavioural", field="page_viewed",
                               operator="activity_count", value="1", points=45)
    leads = [LeadFactory(tenant=tenant) for _ in range(7)]
    for lead in leads[::2]:
        ActivityFactory(lead=lead, kind=ActivityKind.PAGE_VIEWED)

    out = rescore("--workers", "3", "--batch-size", "2")  # PostgreSQL: 4 batches on 3 connections

    assert [Lead.objects.get(pk=x.pk).score_total for x in leads] == [45, 0, 45, 0, 45, 0, 45]
    assert "Rescored 7 leads" in out and "4 changed band" in out


def test_an_unknown_tenant_or_batch_size_is_refused(tenant):
    with pytest.raises(CommandError, match="No workspace with slug 'nope'; known slugs: acme."):
        rescore("--tenant", "nope")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        rescore("--batch-size", "0")
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        rescore("--workers", "0")
