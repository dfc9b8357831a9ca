"""The scoring sheet a new workspace starts with (leads.workspaces.create_tenant installs it).

Roughly: who the person is (title) 6 to 20 (title rules add up: "VP, Head of Sales" gets both),
the company (size, revenue, industry) up to 40, what they did (emails, pages, forms, a demo
request) up to 45; a free-mail address costs 10. A chief at a large company in a target industry
who filled in a form and asked for a demo scores 90. Behavioural
rules give their points once, when the lead has at least `value` activities of that kind; the
"3 or more" / "5 or more" rules are tiers on top.
"""

from __future__ import annotations

from crm.models import Tenant
from crm.normalize import FREE_EMAIL_DOMAINS
from leads.choices import RuleCategory, RuleOperator
from leads.models import ScoringRule
from leads.rules.sheet import check_rule

DEMOGRAPHIC, FIRMOGRAPHIC, BEHAVIOURAL = RuleCategory.DEMOGRAPHIC, RuleCategory.FIRMOGRAPHIC, RuleCategory.BEHAVIOURAL
TARGET_INDUSTRIES = ("Software", "Financial services", "Healthcare", "Cybersecurity")

# fmt: off
# name, category, field, operator, value, points
DEFAULT_RULES = (
    ("Title: C-level (chief)", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "chief", 20),
    ("Title: VP", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "vp", 15),
    ("Title: vice president", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "vice president", 15),
    ("Title: head of", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "head", 12),
    ("Title: director", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "director", 12),
    ("Title: manager", DEMOGRAPHIC, "job_title", RuleOperator.CONTAINS, "manager", 6),
    ("Free email address", DEMOGRAPHIC, "email_domain", RuleOperator.IN_LIST, ", ".join(sorted(FREE_EMAIL_DOMAINS)), -10),
    ("Company: over 50 employees", FIRMOGRAPHIC, "employee_count", RuleOperator.GREATER_THAN, "50", 5),
    ("Company: over 500 employees", FIRMOGRAPHIC, "employee_count", RuleOperator.GREATER_THAN, "500", 10),
    ("Revenue: over 1M", FIRMOGRAPHIC, "annual_revenue", RuleOperator.GREATER_THAN, "1000000", 5),
    ("Revenue: over 10M", FIRMOGRAPHIC, "annual_revenue", RuleOperator.GREATER_THAN, "10000000", 10),
    ("Target industry", FIRMOGRAPHIC, "industry", RuleOperator.IN_LIST, ", ".join(TARGET_INDUSTRIES), 10),
    ("Opened an email", BEHAVIOURAL, "email_opened", RuleOperator.ACTIVITY_COUNT, "1", 2),
    ("Opened 3 or more emails", BEHAVIOURAL, "email_opened", RuleOperator.ACTIVITY_COUNT, "3", 3),
    ("Clicked an email", BEHAVIOURAL, "email_clicked", RuleOperator.ACTIVITY_COUNT, "1", 5),
    ("Viewed a page", BEHAVIOURAL, "page_viewed", RuleOperator.ACTIVITY_COUNT, "1", 1),
    ("Viewed 5 or more pages", BEHAVIOURAL, "page_viewed", RuleOperator.ACTIVITY_COUNT, "5", 4),
    ("Submitted a form", BEHAVIOURAL, "form_submitted", RuleOperator.ACTIVITY_COUNT, "1", 10),
    ("Requested a demo", BEHAVIOURAL, "demo_requested", RuleOperator.ACTIVITY_COUNT, "1", 20),
)
# fmt: on


def install_default_rules(*, tenant: Tenant) -> list[ScoringRule]:
    """Add the default rules the tenant does not have yet (by name); returns the ones added."""
    existing = set(ScoringRule.objects.for_tenant(tenant).values_list("name", flat=True))
    rules = []
    for name, category, field, operator, value, points in DEFAULT_RULES:
        if name in existing:
            continue
        check_rule(field=field, operator=operator, value=value)  # the defaults obey the admin's checks
        rules.append(
            ScoringRule(
                tenant=tenant, name=name, category=category, field=field, operator=operator, value=value, points=points
            )
        )
    return ScoringRule.objects.bulk_create(rules)
