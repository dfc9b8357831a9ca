"""The condition engine: each operator in Python, refusals, and SQL agreeing with Python on generated leads."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Activity
from leads.models import Lead, ScoringRule
from leads.rules.conditions import (
    LEAD_FIELDS,
    ConditionError,
    matches,
    matches_all,
    parse_condition,
    parse_conditions,
    to_q,
    validate_condition,
)
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def lead_with(**fields) -> Lead:
    return Lead(**{"email": "ada@example.com", **fields})


def check(field, operator, value, **lead_fields) -> bool:
    return matches({"field": field, "operator": operator, "value": value}, lead_with(**lead_fields))


# Each operator, in Python -----------------------------------------------------------------------


def test_equals_ignores_ascii_case_but_not_spaces():
    assert check("industry", "equals", "software", industry="Software")
    assert check("industry", "equals", "SOFTWARE", industry="software")
    assert not check("industry", "equals", "software", industry="Software ")
    assert not check("industry", "equals", "software", industry="")


def test_contains_starts_and_ends_with():
    assert check("job_title", "contains", "director", job_title="IT Director")
    assert not check("job_title", "contains", "director", job_title="Account Executive")
    assert check("job_title", "starts_with", "vp", job_title="VP of Sales")
    assert not check("job_title", "starts_with", "sales", job_title="VP of Sales")
    assert check("job_title", "ends_with", "SALES", job_title="VP of Sales")
    assert not check("job_title", "ends_with", "vp", job_title="VP of Sales")


def test_in_list_trims_items_and_compares_the_whole_value():
    rule = ("country", "in_list", " de,AT ,  ch ")
    assert check(*rule, country="DE")
    assert check(*rule, country="ch")
    assert not check(*rule, country="FR")
    assert not check("industry", "in_list", "Software, Healthcare", industry="Software tools")


def test_is_set_and_is_empty_treat_none_like_empty_text():
    assert check("company", "is_set", "", company="Acme")
    assert not check("company", "is_set", "", company="")
    assert check("company", "is_empty", "", company="")
    assert check("company", "is_empty", "", company=None)
    assert check("employee_count", "is_empty", "", employee_count=None)
    assert check("employee_count", "is_set", "", employee_count=0)


def test_numeric_comparisons_and_missing_numbers():
    assert check("employee_count", "gt", "50", employee_count=51)
    assert not check("employee_count", "gt", "50", employee_count=50)
    assert check("employee_count", "lt", "50", employee_count=49)
    assert not check("employee_count", "lt", "50", employee_count=None)
    assert not check("employee_count", "gt", "50", employee_count=None)
    assert check("annual_revenue", "gt", "1000000", annual_revenue=Decimal("1000000.01"))
    assert not check("annual_revenue", "gt", "1000000", annual_revenue=Decimal("1000000.00"))
    assert check("annual_revenue", "equals", "2500.5", annual_revenue=Decimal("2500.50"))
    assert check("employee_count", "in_list", "10, 20", employee_count=20)
    assert not check("employee_count", "in_list", "10, 20", employee_count=15)


def test_email_domain_is_the_part_after_the_at():
    assert check("email_domain", "equals", "gmail.com", email="someone@GMail.com")
    assert check("email_domain", "in_list", "gmail.com, yahoo.com", email="x@yahoo.com")
    assert not check("email_domain", "in_list", "gmail.com, yahoo.com", email="x@acme.com")
    assert check("email_domain", "is_empty", "", email="")


def test_activity_count_is_at_least_the_value():
    rule = {"field": "email_opened", "operator": "activity_count", "value": "2"}
    lead = lead_with()
    assert not matches(rule, lead, {"email_opened": 1})
    assert matches(rule, lead, {"email_opened": 2})
    assert matches(rule, lead, {"email_opened": 7, "page_viewed": 1})
    assert not matches(rule, lead, {})


def test_activity_counts_are_read_from_the_database_when_not_given(tenant):
    lead = LeadFactory(tenant=tenant)
    ActivityFactory(lead=lead, kind="page_viewed")
    assert matches({"field": "page_viewed", "operator": "activity_count", "value": 1}, lead)
    assert not matches({"field": "page_viewed", "operator": "activity_count", "value": 2}, lead)


def test_case_folding_is_ascii_only():
    assert check("last_name", "equals", "MULLER", last_name="muller")
    assert not check("last_name", "equals", "MÜLLER", last_name="müller")  # see the module doc


def test_takes_scoring_rules_dicts_and_json_numbers(tenant):
    rule = ScoringRule(tenant=tenant, name="Big", category="firmographic", field="employee_count", operator="gt", value="500")
    assert matches(rule, lead_with(employee_count=501))
    assert matches({"field": "employee_count", "operator": "gt", "value": 500}, lead_with(employee_count=501))
    assert matches({"field": "country", "operator": "in_list", "value": ["DE", "AT"]}, lead_with(country="AT"))


def test_matches_all_is_a_conjunction_and_empty_matches_everything():
    lead = lead_with(country="DE", employee_count=800)
    assert matches_all([], lead)
    assert matches_all([{"field": "country", "operator": "equals", "value": "de"},
                        {"field": "employee_count", "operator": "gt", "value": "500"}], lead)
    assert not matches_all([{"field": "country", "operator": "equals", "value": "de"},
                            {"field": "employee_count", "operator": "gt", "value": "1000"}], lead)


# Refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "part", "message"),
    [
        ("employee_count", "gt", "lots", "value", "employee_count compares whole numbers: 'lots' is not one"),
        ("annual_revenue", "lt", "1,000,000", "value", "annual_revenue compares numbers: '1,000,000' is not a number"),
        ("annual_revenue", "gt", "10.005", "value", "at most 2 decimal places"),
        ("employee_count", "in_list", "10, many", "value", "employee_count compares whole numbers: 'many'"),
        ("salary", "equals", "1", "field", "Unknown lead field 'salary'"),
        ("job_title", "gt", "5", "operator", "job_title is a text field"),
        ("employee_count", "contains", "5", "operator", "employee_count is a number field"),
        ("job_title", "resembles", "x", "operator", "Unknown operator 'resembles'"),
        ("job_title", "contains", "", "value", "'contains' on job_title needs a value"),
        ("country", "in_list", " , ,", "value", "'in list' on country needs a comma-separated list"),
        ("webinar_attended", "activity_count", "1", "field", "'webinar_attended' is not one"),
        ("email_opened", "activity_count", "0", "value", "needs a minimum of at least 1"),
        ("email_opened", "activity_count", "two", "value", "email_opened compares whole numbers"),
    ],
)
def test_invalid_conditions_are_refused_naming_the_field(field, operator, value, part, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(")) as caught:
        validate_condition(field=field, operator=operator, value=value)
    assert caught.value.part == part
    assert caught.value.as_validation_error().message_dict == {part: [str(caught.value)]}


def test_a_list_of_conditions_says_which_one_is_wrong():
    with pytest.raises(ConditionError, match="Condition 2: Unknown lead field 'shoe_size'"):
        parse_conditions([{"field": "country", "operator": "equals", "value": "DE"},
                          {"field": "shoe_size", "operator": "gt", "value": "40"}])
    with pytest.raises(ConditionError, match="a list"):
        parse_conditions({"field": "country"})


def test_matches_refuses_a_bad_condition_rather_than_guessing():
    with pytest.raises(ValueError, match="Unknown lead field"):
        matches({"field": "password", "operator": "is_set"}, lead_with())
    with pytest.raises(ValueError):
        matches("country = DE", lead_with())


# SQL, next to Python -----------------------------------------------------------------------------


def test_to_q_filters_like_python(tenant):
    big = LeadFactory(tenant=tenant, employee_count=900, industry="Software", email="a@gmail.com")
    small = LeadFactory(tenant=tenant, employee_count=None, industry="", email="b@acme.example")
    ActivityFactory(lead=big, kind="email_opened")
    ActivityFactory(lead=big, kind="email_opened")

    def sql(condition):
        return set(Lead.objects.filter(tenant=tenant).filter(to_q(condition)).values_list("pk", flat=True))

    assert sql({"field": "employee_count", "operator": "gt", "value": "500"}) == {big.pk}
    assert sql({"field": "employee_count", "operator": "is_empty"}) == {small.pk}
    assert sql({"field": "industry", "operator": "is_set"}) == {big.pk}
    assert sql({"field": "industry", "operator": "is_empty"}) == {small.pk}
    assert sql({"field": "email_domain", "operator": "in_list", "value": "GMAIL.com, yahoo.com"}) == {big.pk}
    assert sql({"field": "email_opened", "operator": "activity_count", "value": "2"}) == {big.pk}
    assert sql({"field": "email_opened", "operator": "activity_count", "value": "1"}) == {big.pk}
    assert sql({"field": "email_opened", "operator": "activity_count", "value": "3"}) == set()


def test_like_wildcards_in_values_are_literal(tenant):
    percent = LeadFactory(tenant=tenant, job_title="100% remote")
    LeadFactory(tenant=tenant, job_title="100 remote")
    condition = {"field": "job_title", "operator": "contains", "value": "0% r"}
    assert set(Lead.objects.filter(to_q(condition)).values_list("pk", flat=True)) == {percent.pk}
    assert set(Lead.objects.filter(to_q({**condition, "value": "_"})).values_list("pk", flat=True)) == set()


# Property: both evaluators agree on every operator --------------------------------------------------

# Pieces that collide often (so conditions match some leads), in mixed case, with LIKE wildcards,
# commas, spaces, non-ASCII letters and '@'.
PIECES = ["vp", "VP", "Head", "héad", "HÉAD", "Straße", "STRASSE", "soft", "Software", "a%b", "a_b", "x\\y",
          "de", "DE", ",", " ", "@", "gmail.com", "GMail.Com", "İ", "i", "σς", "Σ", ""]
ALPHABET = "abcXYZ éÉßİıσςΣ,%_\\@.-0"
text_values = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=3).map("".join),
    st.text(alphabet=ALPHABET, max_size=8),
)
EMPLOYEES = [None, 0, 1, 49, 50, 51, 500, 501, 12_000]
REVENUES = [None, Decimal("0"), Decimal("999999.99"), Decimal("1000000"), Decimal("1000000.01"), Decimal("123456789012.34")]
KINDS = ["email_opened", "page_viewed", "demo_requested"]
TEXT_FIELDS = ["job_title", "industry", "company", "email", "email_domain", "first_name", "country"]
TEXT_OPS = ["equals", "contains", "starts_with", "ends_with", "in_list", "is_set", "is_empty"]
NUMBER_OPS = ["equals", "gt", "lt", "in_list", "is_set", "is_empty"]


@st.composite
def leads(draw):
    return {
        "job_title": draw(text_values),
        "industry": draw(text_values),
        "company": draw(text_values),
        "first_name": draw(text_values),
        "country": draw(text_values)[:2],
        "email": draw(st.one_of(st.just(""), text_values, st.builds("{}@{}".format, text_values, text_values))),
        "employee_count": draw(st.sampled_from(EMPLOYEES) | st.integers(0, 100_000)),
        "annual_revenue": draw(
            st.sampled_from(REVENUES)
            | st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False)
        ),
        "activities": draw(st.dictionaries(st.sampled_from(KINDS), st.integers(0, 3))),
    }


def _number_text(draw, field):
    if field == "employee_count":
        return str(draw(st.sampled_from([0, 1, 49, 50, 51, 500, 501]) | st.integers(-5, 100_000)))
    return str(draw(st.sampled_from(REVENUES[1:]) | st.decimals(min_value=-1, max_value=10**12, places=2)))


def _case_variant(draw, text):
    """The text as a rule author might type it: as is, in another case, or a piece of it."""
    variant = draw(st.sampled_from([str, str.upper, str.lower, str.swapcase, str.title]))(text)
    if variant and draw(st.booleans()):
        start = draw(st.integers(0, len(variant) - 1))
        variant = variant[start : draw(st.integers(start + 1, len(variant)))]
    return variant


def _text_value(draw, field, generated):
    seen = [lead_text(lead, field) for lead in generated]
    seen = [value for value in seen if value]
    if seen and draw(st.integers(0, 3)):  # mostly built from what the leads hold, so rules match some
        return _case_variant(draw, draw(st.sampled_from(seen)))
    return draw(text_values)


def lead_text(lead, field):
    email = lead["email"]
    return email.partition("@")[2] if field == "email_domain" else lead[field]


@st.composite
def conditions(draw, generated):
    kind = draw(st.sampled_from(["text", "text", "number", "activity"]))
    if kind == "activity":
        return {"field": draw(st.sampled_from(KINDS)), "operator": "activity_count", "value": str(draw(st.integers(1, 3)))}
    if kind == "number":
        field, operator = draw(st.sampled_from(["employee_count", "annual_revenue"])), draw(st.sampled_from(NUMBER_OPS))
        seen = [str(lead[field]) for lead in generated if lead[field] is not None]
        def number():
            return draw(st.sampled_from(seen)) if seen and draw(st.booleans()) else _number_text(draw, field)
        if operator == "in_list":
            value = " , ".join(number() for _ in range(draw(st.integers(1, 3))))
        else:
            value = "" if operator in ("is_set", "is_empty") else number()
        return {"field": field, "operator": operator, "value": value}
    field, operator = draw(st.sampled_from(TEXT_FIELDS)), draw(st.sampled_from(TEXT_OPS))
    if operator in ("is_set", "is_empty"):
        value = ""
    elif operator == "in_list":
        items = [_text_value(draw, field, generated) for _ in range(draw(st.integers(1, 4)))]
        value = draw(st.sampled_from([",", ", ", " ,  "])).join(items)
        if not value.replace(",", "").strip():
            value = "de , vp"
    else:
        value = _text_value(draw, field, generated) or "vp"
    return {"field": field, "operator": operator, "value": value}


def save_leads(tenant, generated) -> dict[int, dict[str, int]]:
    counts = {}
    for number, data in enumerate(generated):
        data = dict(data)
        activities = data.pop("activities")
        email = data.pop("email")
        lead = Lead.objects.create(
            tenant=tenant, email=f"{number}{email}" if email else "", phone="" if email else "+14155550100", **data
        )
        Activity.objects.bulk_create(
            Activity(tenant=tenant, lead=lead, kind=kind) for kind, n in activities.items() for _ in range(n)
        )
        counts[lead.pk] = {kind: n for kind, n in activities.items() if n}
    return counts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(generated=st.lists(leads(), min_size=1, max_size=6), data=st.data())
def test_sql_and_python_agree(tenant, generated, data):
    rules = data.draw(st.lists(conditions(generated), min_size=1, max_size=6), label="rules")
    with transaction.atomic():
        counts = save_leads(tenant, generated)
        saved = list(Lead.objects.filter(pk__in=counts))  # Python reads what the database holds
        flags = {
            f"m{i}": Case(When(to_q(rule), then=Value(1)), default=Value(0), output_field=IntegerField())
            for i, rule in enumerate(rules)
        }
        by_sql = {row["pk"]: row for row in Lead.objects.filter(pk__in=counts).annotate(**flags).values("pk", *flags)}
        for i, rule in enumerate(rules):
            condition = parse_condition(rule)
            in_python = {lead.pk for lead in saved if matches(condition, lead, counts[lead.pk])}
            in_sql = {pk for pk, row in by_sql.items() if row[f"m{i}"]}
            filtered = set(Lead.objects.filter(pk__in=counts).filter(to_q(condition)).values_list("pk", flat=True))
            assert in_python == in_sql == filtered, (rule, [(lead.pk, getattr(lead, rule["field"], lead.email)) for lead in saved])
        transaction.set_rollback(True)


def test_every_whitelisted_field_compiles_to_sql(tenant):
    LeadFactory(tenant=tenant)
    for field, kind in LEAD_FIELDS.items():
        condition = {"field": field, "operator": "is_set" if kind == "text" else "is_empty", "value": ""}
        Lead.objects.filter(to_q(condition)).count()
