"""Conditions on a lead: (field, operator, value) triples, as scoring rules and assignment rules state them.

One meaning, two evaluators. `matches()` checks one lead in Python (capture, editing, routing);
`to_q()` compiles the same condition to SQL for set-based work (rescoring a whole table in a few
statements). tests/leads/rules/test_conditions.py holds the two to the same answers on generated leads.

What a condition means, in both evaluators:
- `field` is one of LEAD_FIELDS (a whitelist), or an activity kind for `activity_count`.
  `email_domain` is derived: the part of the email after the first "@" ("" without one).
- Text comparisons ignore case for the ASCII letters A-Z only; other characters compare exactly
  ("É" is not "é"). Python's and the databases' Unicode case rules differ (ß, İ, final sigma),
  so folding more would let the two evaluators disagree on some leads.
- An empty text field and a missing one (NULL, None) are the same: "is empty".
- `in_list` splits the value on commas and trims each item ("DE, AT,CH"); the lead's field is
  compared whole.
- Numeric fields (employee_count, annual_revenue, score_total) take equals / greater than / less
  than / in list with numbers, and is set / is empty. A missing number matches none of the
  comparisons. Whole-number fields take whole numbers; revenue up to two decimal places.
- `activity_count`: true when the lead has at least `value` (a whole number >= 1) activities of
  the kind named by `field`.

Invalid conditions are refused by `parse_condition` with a ConditionError (a ValueError) whose
message names the field and says what to write instead; `.part` says which of field / operator /
value is wrong, so forms can put the message next to it.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Count, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, StrIndex, Substr
from django.db.models.lookups import (
    Contains as ContainsLookup,
)
from django.db.models.lookups import (
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    StartsWith,
)

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import RuleOperator

TEXT, INTEGER, DECIMAL = "text", "integer", "decimal"

# The lead fields a condition may read, and what kind of value each holds.
LEAD_FIELDS: dict[str, str] = {
    "first_name": TEXT,
    "last_name": TEXT,
    "email": TEXT,
    "email_domain": TEXT,  # derived from email
    "phone": TEXT,
    "job_title": TEXT,
    "company": TEXT,
    "industry": TEXT,
    "website": TEXT,
    "country": TEXT,
    "message": TEXT,
    "source": TEXT,
    "campaign": TEXT,
    "source_url": TEXT,
    "referrer": TEXT,
    "utm_source": TEXT,
    "utm_medium": TEXT,
    "utm_campaign": TEXT,
    "utm_term": TEXT,
    "utm_content": TEXT,
    "status": TEXT,
    "priority": TEXT,
    "employee_count": INTEGER,
    "annual_revenue": DECIMAL,
    "score_total": INTEGER,
}
DECIMAL_PLACES = 2  # Lead.annual_revenue
MAX_NUMBER = Decimal("1e14")  # Lead.annual_revenue holds 16 digits, 2 after the point

TEXT_OPERATORS = frozenset(
    {
        RuleOperator.EQUALS,
        RuleOperator.CONTAINS,
        RuleOperator.STARTS_WITH,
        RuleOperator.ENDS_WITH,
        RuleOperator.IN_LIST,
        RuleOperator.IS_SET,
        RuleOperator.IS_EMPTY,
    }
)
NUMBER_OPERATORS = frozenset(
    {
        RuleOperator.EQUALS,
        RuleOperator.GREATER_THAN,
        RuleOperator.LESS_THAN,
        RuleOperator.IN_LIST,
        RuleOperator.IS_SET,
        RuleOperator.IS_EMPTY,
    }
)
NO_VALUE_OPERATORS = frozenset({RuleOperator.IS_SET, RuleOperator.IS_EMPTY})

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class ConditionError(ValueError):
    """A condition that cannot be evaluated; the message names the field and says what to write."""

    def __init__(self, message: str, *, part: str = "value"):
        super().__init__(message)
        self.part = part  # "field", "operator" or "value": where a form shows the message

    def as_validation_error(self) -> ValidationError:
        return ValidationError({self.part: [str(self)]})


@dataclass(frozen=True)
class Condition:
    """A checked (field, operator, value) triple; build it with parse_condition()."""

    field: str
    operator: str
    value: str
    # dataclasses.field: the name `field` is this class's first attribute.
    operand: Any = dataclasses.field(default=None, compare=False, repr=False)  # the value, parsed for the field's kind

    @property
    def kind(self) -> str:
        """text, integer or decimal; "activity" for activity counts."""
        return "activity" if self.operator == RuleOperator.ACTIVITY_COUNT else LEAD_FIELDS[self.field]

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "operator": self.operator, "value": self.value}


def fold(text: str) -> str:
    """Lowercase ASCII letters only (see the module doc for why not Unicode)."""
    return text.translate(_ASCII_LOWER)


def parse_condition(condition: Condition | Mapping | Any) -> Condition:
    """A checked Condition from a ScoringRule, a {"field", "operator", "value"} dict or a Condition.

    Raises ConditionError when the field is unknown, the operator does not fit the field, or the
    value does not fit the operator.
    """
    if isinstance(condition, Condition):
        return condition
    if isinstance(condition, Mapping):
        name, operator, value = condition.get("field"), condition.get("operator"), condition.get("value", "")
    elif all(hasattr(condition, attr) for attr in ("field", "operator", "value")):
        name, operator, value = condition.field, condition.operator, condition.value
    else:
        raise ConditionError(
            f"A condition is a rule or a dict with field, operator and value, not {type(condition).__name__}.",
            part="field",
        )
    return _checked(_text(name).strip(), _text(operator).strip(), _value_text(value))


def validate_condition(*, field: str, operator: str, value: Any = "") -> Condition:
    """The checked condition, or ConditionError; for forms and APIs that take the three parts."""
    return parse_condition({"field": field, "operator": operator, "value": value})


def parse_conditions(conditions: Iterable) -> list[Condition]:
    """Check a list of conditions (e.g. AssignmentRule.conditions); errors say which one is wrong."""
    if isinstance(conditions, (str, bytes, Mapping)) or not isinstance(conditions, Iterable):
        raise ConditionError("Conditions are a list of {field, operator, value} objects.", part="field")
    parsed = []
    for number, condition in enumerate(conditions, start=1):
        try:
            parsed.append(parse_condition(condition))
        except ConditionError as exc:
            raise ConditionError(f"Condition {number}: {exc}", part=exc.part) from exc
    return parsed


# Python: one lead -------------------------------------------------------------------------------


def matches(condition: Condition | Mapping | Any, lead: Any, activity_counts: Mapping[str, int] | None = None) -> bool:
    """Whether the lead meets the condition (a ScoringRule, a dict or a Condition).

    `activity_counts` maps activity kind -> how many the lead has; when it is None and the
    condition counts activities, they are counted in the database.
    """
    c = parse_condition(condition)
    if c.operator == RuleOperator.ACTIVITY_COUNT:
        counts = activity_counts if activity_counts is not None else count_activities(lead)
        return counts.get(c.field, 0) >= c.operand
    raw = lead_value(lead, c.field)
    if LEAD_FIELDS[c.field] != TEXT:
        return _number_matches(c, _as_number(raw))
    text = fold(_text(raw))
    op = c.operator
    if op == RuleOperator.IS_SET:
        return text != ""
    if op == RuleOperator.IS_EMPTY:
        return text == ""
    if op == RuleOperator.EQUALS:
        return text == c.operand
    if op == RuleOperator.CONTAINS:
        return c.operand in text
    if op == RuleOperator.STARTS_WITH:
        return text.startswith(c.operand)
    if op == RuleOperator.ENDS_WITH:
        return text.endswith(c.operand)
    if op == RuleOperator.IN_LIST:
        return text in c.operand
    raise ConditionError(f"Operator {op!r} does not apply to {c.field}.", part="operator")  # unreachable once parsed


def matches_all(conditions: Iterable, lead: Any, activity_counts: Mapping[str, int] | None = None) -> bool:
    """Whether the lead meets every condition (an empty list is met by every lead)."""
    parsed = parse_conditions(conditions)
    if activity_counts is None and any(c.operator == RuleOperator.ACTIVITY_COUNT for c in parsed):
        activity_counts = count_activities(lead)
    return all(matches(c, lead, activity_counts) for c in parsed)


def lead_value(lead: Any, name: str) -> Any:
    """The value a condition on `name` reads from the lead (email_domain is derived)."""
    if name == "email_domain":
        return _text(getattr(lead, "email", "")).partition("@")[2]
    return getattr(lead, name, None)


def count_activities(lead: Any) -> dict[str, int]:
    """Activity kind -> how many the (saved) lead has."""
    if getattr(lead, "pk", None) is None:
        return {}
    rows = Activity.objects.filter(lead_id=lead.pk).order_by().values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def _number_matches(c: Condition, number: Decimal | None) -> bool:
    op = c.operator
    if op == RuleOperator.IS_SET:
        return number is not None
    if op == RuleOperator.IS_EMPTY:
        return number is None
    if number is None:
        return False
    if op == RuleOperator.EQUALS:
        return number == c.operand
    if op == RuleOperator.GREATER_THAN:
        return number > c.operand
    if op == RuleOperator.LESS_THAN:
        return number < c.operand
    if op == RuleOperator.IN_LIST:
        return number in c.operand
    raise ConditionError(f"Operator {op!r} does not apply to {c.field}.", part="operator")


def _as_number(raw: Any) -> Decimal | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# SQL: many leads --------------------------------------------------------------------------------


class AsciiLower(Func):
    """LOWER() that folds A-Z only, on every backend, to match fold()."""

    function = "LOWER"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # Under the "C" collation PostgreSQL lowercases ASCII letters only, whatever the database's locale.
        return self.as_sql(compiler, connection, template='LOWER((%(expressions)s)::text COLLATE "C")', **extra_context)

    # SQLite's built-in LOWER() folds ASCII only already.


def field_expression(name: str):
    """The SQL expression for a whitelisted lead field (email_domain is derived from email)."""
    if name not in LEAD_FIELDS:
        raise ConditionError(_unknown_field(name), part="field")
    if name == "email_domain":
        at = StrIndex(F("email"), Value("@"))
        return Case(
            When(Exact(at, 0), then=Value("")),
            default=Substr(F("email"), at + 1),
            output_field=CharField(),
        )
    return F(name)


def to_q(condition: Condition | Mapping | Any) -> Q:
    """The condition as a Q for Lead querysets: filter(to_q(c)) or Case(When(to_q(c), then=...))."""
    c = parse_condition(condition)
    op = c.operator
    if op == RuleOperator.ACTIVITY_COUNT:
        return Q(_activity_count_condition(c))
    expr = field_expression(c.field)
    if LEAD_FIELDS[c.field] != TEXT:
        if op == RuleOperator.IS_SET:
            return Q(IsNull(expr, False))
        if op == RuleOperator.IS_EMPTY:
            return Q(IsNull(expr, True))
        if op == RuleOperator.EQUALS:
            return Q(Exact(expr, c.operand))
        if op == RuleOperator.GREATER_THAN:
            return Q(GreaterThan(expr, c.operand))
        if op == RuleOperator.LESS_THAN:
            return Q(LessThan(expr, c.operand))
        if op == RuleOperator.IN_LIST:
            return Q(In(expr, sorted(c.operand)))
    text = Coalesce(expr, Value(""), output_field=CharField())
    if op == RuleOperator.IS_SET:
        return ~Q(Exact(text, ""))
    if op == RuleOperator.IS_EMPTY:
        return Q(Exact(text, ""))
    lowered = AsciiLower(expr)
    if op == RuleOperator.EQUALS:
        return Q(Exact(lowered, c.operand))
    if op == RuleOperator.CONTAINS:
        return Q(ContainsLookup(lowered, c.operand))
    if op == RuleOperator.STARTS_WITH:
        return Q(StartsWith(lowered, c.operand))
    if op == RuleOperator.ENDS_WITH:
        return Q(EndsWith(lowered, c.operand))
    if op == RuleOperator.IN_LIST:
        return Q(In(lowered, sorted(c.operand)))
    raise ConditionError(f"Operator {op!r} does not apply to {c.field}.", part="operator")


def activity_count_expression(kind: str):
    """How many activities of `kind` the outer lead has (a correlated subquery, 0 when none)."""
    counted = (
        Activity.objects.filter(lead_id=OuterRef("pk"), kind=kind)
        .order_by()
        .values("lead_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _activity_count_condition(c: Condition):
    if c.operand == 1:
        return Exists(Activity.objects.filter(lead_id=OuterRef("pk"), kind=c.field))
    return GreaterThanOrEqual(activity_count_expression(c.field), c.operand)


# Checking ---------------------------------------------------------------------------------------


def _checked(name: str, operator: str, value: str) -> Condition:
    if operator not in RuleOperator.values:
        raise ConditionError(
            f"Unknown operator {operator!r} for {name or 'the field'}; use one of: {', '.join(RuleOperator.values)}.",
            part="operator",
        )
    if operator == RuleOperator.ACTIVITY_COUNT:
        if name not in ActivityKind.values:
            raise ConditionError(
                f"'activity count' reads an activity kind, and {name!r} is not one; "
                f"use one of: {', '.join(ActivityKind.values)}.",
                part="field",
            )
        count = _whole_number(name, value)
        if count < 1:
            raise ConditionError(f"Activity count for {name} needs a minimum of at least 1, not {value!r}.")
        return Condition(name, operator, value, count)
    if name not in LEAD_FIELDS:
        raise ConditionError(_unknown_field(name), part="field")
    kind = LEAD_FIELDS[name]
    allowed = TEXT_OPERATORS if kind == TEXT else NUMBER_OPERATORS
    if operator not in allowed:
        label = RuleOperator(operator).label
        if kind == TEXT:
            hint = "greater / less than compare numbers; use equals, contains, starts / ends with or in list"
        else:
            hint = "text operators do not apply to numbers; use equals, greater than, less than or in list"
        raise ConditionError(
            f"{name} is a {'text' if kind == TEXT else 'number'} field: '{label}' {hint}.", part="operator"
        )
    if operator in NO_VALUE_OPERATORS:
        return Condition(name, operator, value, None)
    if operator == RuleOperator.IN_LIST:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items:
            raise ConditionError(f"'in list' on {name} needs a comma-separated list of values, e.g. 'DE, AT, CH'.")
        if kind == TEXT:
            return Condition(name, operator, value, frozenset(fold(item) for item in items))
        return Condition(name, operator, value, frozenset(_number(name, kind, item) for item in items))
    if kind != TEXT:
        return Condition(name, operator, value, _number(name, kind, value))
    if value == "":
        raise ConditionError(f"'{RuleOperator(operator).label}' on {name} needs a value to compare with.")
    return Condition(name, operator, value, fold(value))


def _number(name: str, kind: str, value: str) -> int | Decimal:
    if kind == INTEGER:
        return _whole_number(name, value)
    try:
        number = Decimal(value.strip().replace("_", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ConditionError(f"{name} compares numbers: {value!r} is not a number (write e.g. 1000000 or 2500.50).")
    if cast(int, number.as_tuple().exponent) < -DECIMAL_PLACES or abs(number) >= MAX_NUMBER:  # finite: an int exponent
        raise ConditionError(
            f"{name} holds amounts below {MAX_NUMBER:,.0f} with at most {DECIMAL_PLACES} decimal places, not {value!r}."
        )
    return number


def _whole_number(name: str, value: str) -> int:
    text = value.strip().replace("_", "")
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise ConditionError(f"{name} compares whole numbers: {value!r} is not one (write e.g. 50).")
    number = int(text)
    if abs(number) >= MAX_NUMBER:
        raise ConditionError(f"{name}: {value!r} is too large.")
    return number


def _unknown_field(name: str) -> str:
    return f"Unknown lead field {name!r}; conditions may read: {', '.join(LEAD_FIELDS)}."


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, bool):
        raise ConditionError("A condition's value is text or a number, not true/false.")
    return _text(value)
