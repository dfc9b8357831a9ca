"""Who gets a lead: the tenant's assignment rules, else round robin among available reps.

Order of decision
1. Active `AssignmentRule`s by priority, then id. A rule matches when all its conditions hold
   (the condition engine in leads/rules/conditions.py, the same one scoring uses; no conditions match
   every lead). Its pool is its target user, or its team (union of both if both are set). The
   first matching rule whose pool has someone who can take the lead wins; when everyone in the
   pool is away, inactive or full, routing falls through to the next rule, and the final reason
   says which rules were passed over and why.
2. No rule placed the lead: round robin among the tenant's active, available reps (role "rep").
   Managers and admins do not take leads from the round robin; a rule may still name them.
3. Nobody can take it: the lead stays unassigned. That is logged (warning) and written on the
   lead's timeline ("Not assigned: ..."). A workspace with no reps and no rules at all does not use
   routing, so nothing is written there. Unassigned leads are listed by `?unassigned=true` and
   the admin's owner filter.

Who can take a lead: an active member of the lead's tenant who is available (`is_available`) and
under capacity (open leads < `lead_capacity`; no capacity means no limit).

Who among them (fairness): fewest open leads first; ties go to the one who waited longest
(`last_assigned_at` oldest, never-routed first, then oldest account). One more rule stops a rep
with a light load (back from leave, or just joined) from being flooded: nobody gets two routed
leads in a row while a colleague in the same pool can take one. The candidate with the most
recent `last_assigned_at` sits out one turn. So a rep back with 0 open leads while the others hold
10 gets every other lead until the loads meet, not the next ten in a row.

Effects: `assign_lead` does the writing (the lead, an "assigned" activity whose body is the reason,
e.g. 'rule "DACH enterprise"' or "round robin: 12 open leads, longest wait", a LeadAssigned event,
and the email to the new owner after commit). The chosen user's `last_assigned_at` is set in the
same transaction. Manual assignments (API, admin) do not touch `last_assigned_at`: it records the
rotation.

When: everything is immediate. Capture calls `place_new_lead` inside its own transaction for every
new lead without an owner (chat leads included), before the lead's INSERT, so the row is written
once with its owner; the assignment's activity and event go in with the capture's own. There are no
background workers yet, so no lead waits for a queue. A routing failure is logged and leaves the
lead unassigned; it never loses the capture.

Concurrency: candidates are ranked on counts read without locks; the chosen user's row is then
locked (`lock_rep`: leads/locks.py keeps the order, after the email's claim and the lead's row).
Two captures at once rank by the same counts and would pick the same rep; the second finds that
rep's row locked and, rather than queueing behind the first until it commits, skips to the next in
line (SKIP LOCKED): the first is about to give that rep a lead and the latest turn, so the next in
line is who round robin would pick after it anyway. Only when
everyone who could take the lead is locked does a routing wait, for the fairest of them. With a
capacity (or after waiting) the open leads are recounted under the lock, so concurrent captures
cannot push a rep over capacity. On SQLite, IMMEDIATE transactions serialise writers, so there is
no race at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db import transaction
from django.db.models import Exists, Func, IntegerField, OuterRef, Q, Subquery

from crm import timeline
from crm.choices import Role
from crm.models import Activity, Event, Tenant, User
from leads.assignment import (
    AssignmentError,
    assign_lead,
    assignment_records,
    not_assigned_entry,
    tell_owner_on_commit,
)
from leads.choices import OPEN_STATUSES, RuleOperator
from leads.locks import lock_lead, lock_rep
from leads.models import AssignmentRule, Lead
from leads.rules.conditions import ConditionError, count_activities, matches_all, parse_conditions
from leads.rules.config import config_for

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _OpenLeads(TypedDict):
        open_leads: Any  # an int, from the _open_leads() subquery

    # A user as routing ranks them: annotated with their open leads.
    RankedUser = WithAnnotations[User, _OpenLeads]

log = logging.getLogger(__name__)

NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class RoutingResult:
    lead: Lead
    owner: User | None
    reason: str
    rule: AssignmentRule | None = None


@dataclass
class Pick:
    """The outcome of choosing within one pool."""

    user: User | None = None
    open_leads: int = 0
    tie_broken_by_wait: bool = False
    sat_out: User | None = None
    refused: dict[str, int] = field(default_factory=dict)  # why the others could not take it: away, full, ...

    def refusal(self) -> str:
        if not self.refused:
            return "nobody in it"
        return "nobody available: " + ", ".join(f"{n} {why}" for why, n in self.refused.items())


@dataclass
class Placement:
    """Routing decided for a lead about to be inserted (capture): who gets it, and the rows that say so."""

    decision: Decision

    @property
    def owner(self) -> User | None:
        return self.decision.pick.user

    def records(self, lead: Lead, now: dt.datetime) -> tuple[list[Activity], list[Event]]:
        """For the saved lead: the assignment's entry and event, or the "Not assigned" entry (unsaved)."""
        if self.owner is not None:
            activity, event = assignment_records(lead=lead, owner=self.owner, previous_id=None, actor=None,
                                                 reason=self.decision.reason, details=self.decision.details(), now=now)
            return [activity], [event]
        if self.decision.say_unassigned:
            log.warning("Lead %s (tenant %s) not assigned: %s", lead.pk, lead.tenant_id, self.decision.reason)
            return [timeline.activity(**not_assigned_entry(lead=lead, owner_id=lead.owner_id, actor=None,
                                                           reason=self.decision.reason))], []
        return [], []

    def settle(self, lead: Lead) -> None:
        """After the rows are written: the rotation stamp, and the new owner's email once committed."""
        if self.owner is not None:
            User.objects.filter(pk=self.owner.pk).update(last_assigned_at=lead.assigned_at)
            tell_owner_on_commit(lead=lead, owner=self.owner, actor=None, reason=self.decision.reason)


def place_new_lead(*, lead: Lead, activity_counts: dict[str, int], status: str, now: dt.datetime) -> Placement | None:
    """Route a lead capture is about to insert: sets its owner before the INSERT (one write, not two).

    `activity_counts` and `status` are what the lead will have once its submission is logged and it
    is auto-qualified, which rules may read. The chosen rep's row stays locked until the capture
    commits. None when routing is not in use in the workspace, or failed: a failure is logged and
    leaves the lead unassigned rather than losing the submission.
    """
    config = config_for(lead.tenant)
    if not config.assignment_rules and not config.has_reps:
        return None  # routing is not in use in this workspace
    saved_status, lead.status = lead.status, status
    try:
        with transaction.atomic():  # a savepoint: a failure undoes only routing
            decision = _decide_one(lead=lead, activity_counts=activity_counts)
    except Exception:
        log.exception("Routing lead for tenant %s failed; it is saved unassigned", lead.tenant_id)
        return None
    finally:
        lead.status = saved_status
    if decision.pick.user is not None:
        lead.owner, lead.assigned_at = decision.pick.user, now
    return Placement(decision)


def route_lead(*, lead: Lead, actor: User | None = None) -> RoutingResult:
    """Apply the tenant's assignment rules (else round robin) to an open lead and assign it.

    `actor` is who asked (None: the system, on capture). An owned lead is routed afresh; if the
    rules pick its current owner nothing changes. Raises AssignmentError for a closed lead.
    """
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        if not lead.is_open:
            raise AssignmentError(f"Lead {lead.public_id} is {lead.status}; only open leads are routed.")
        return _route(lead=lead, actor=actor)


@dataclass(frozen=True)
class Decision:
    pick: Pick  # pick.user: who gets the lead (None: nobody can)
    reason: str
    rule: AssignmentRule | None = None
    say_unassigned: bool = False  # nobody could take it where routing is in use: the timeline says so

    def details(self) -> dict:
        return {
            "routing": "rule" if self.rule else "round_robin",
            "rule_id": self.rule.pk if self.rule else None,
            "open_leads": self.pick.open_leads,
        }


def _route(*, lead: Lead, actor: User | None) -> RoutingResult:
    decision = _decide_one(lead=lead)
    if decision.pick.user is not None:
        return _give(lead=lead, decision=decision, actor=actor)
    return _leave_unassigned(lead=lead, decision=decision, actor=actor)


def _decide_one(*, lead: Lead, activity_counts: dict[str, int] | None = None) -> Decision:
    """Who of the workspace gets the lead and why; the chosen user's row is locked (see _pick)."""
    rules = config_for(lead.tenant).assignment_rules
    # Counted once for all rules, and only when a rule counts activities.
    if activity_counts is None and any(_uses_activity_counts(r) for r in rules):
        activity_counts = count_activities(lead)
    return _decide(
        lead=lead, rules=rules, activity_counts=activity_counts, pool_of=_pool,
        pick_in=lambda pool: _pick(lead=lead, pool=Q(role=Role.REP) if pool is None else Q(pk__in=pool)),
    )


def _decide(
    *,
    lead,
    rules: Iterable[AssignmentRule],
    activity_counts: dict[str, int] | None,
    pool_of: Callable[[AssignmentRule], set[int]],
    pick_in: Callable[[set[int] | None], Pick],
) -> Decision:
    """The one decision, for a lead or a row of a batch: the first matching rule whose pool (`pool_of`)
    has someone who can take it, else round robin among the reps. `pick_in(pool)` (None: the reps)
    chooses within a pool; routing one lead reads and locks rows there, a batch counts in memory."""
    passed_over: list[str] = []
    for rule in rules:
        if not _rule_matches(rule, lead, activity_counts):
            continue
        pool = pool_of(rule)
        pick = pick_in(pool)
        if pick.user is None:
            passed_over.append(f'rule "{rule.name}" ({pick.refusal()})')
            continue
        if len(pool) == 1:
            reason = f'rule "{rule.name}"'
        else:
            reason = f'rule "{rule.name}": team rotation, {_fairness(pick)}'
        return Decision(pick=pick, reason=_with(reason, passed_over), rule=rule)

    pick = pick_in(None)
    if pick.user is not None:
        return Decision(pick=pick, reason=_with(f"round robin: {_fairness(pick)}", passed_over))
    reason = _with(f"round robin: {pick.refusal()}" if pick.refused else "round robin: no reps", passed_over)
    # A workspace with no reps and no rules does not use routing: nothing to say then.
    return Decision(pick=pick, reason=reason, say_unassigned=bool(pick.refused or passed_over or rules))


def _pool(rule: AssignmentRule) -> set[int]:
    """Who a rule routes to: its target user and its team."""
    pool = {member.pk for member in rule.target_team.all()}
    if rule.target_user_id:
        pool.add(rule.target_user_id)
    return pool


def _pick(*, lead: Lead, pool: Q) -> Pick:
    """The fairest user of the pool who can take the lead, with their row locked (see the module doc)."""
    excluded: dict[int, str] = {}  # filled (or gone away) while we waited for their row
    busy: set[int] = set()  # being given a lead by a concurrent routing at this moment
    while True:
        people = list(
            User.objects.filter(pool, tenant_id=lead.tenant_id)
            .exclude(pk__in=list(excluded))
            .annotate(open_leads=_open_leads(lead))
            .order_by("pk")
        )
        pick = _choose_among([person for person in people if person.pk not in busy])
        wait = pick.user is None and bool(busy)
        if wait:  # everyone who can take it is busy: queue behind the fairest of them
            pick = _choose_among(people)
        for why in excluded.values():
            pick.refused[why] = pick.refused.get(why, 0) + 1
        if pick.user is None:
            return pick
        locked = lock_rep(pick.user.pk, skip_locked=not wait)
        if locked is None and not wait:
            # Their row is locked by a routing that has not committed yet: they are about to have
            # one more lead and the latest turn, so the next in line takes this one instead.
            busy.add(pick.user.pk)
            continue
        if locked is None:
            excluded[pick.user.pk] = "inactive"  # deleted while we waited
            continue
        # Count again under the lock when it matters: capacity, or a routing we waited for has
        # just committed a lead to them.
        open_now = pick.open_leads
        if wait or locked.lead_capacity is not None:
            others = Lead.objects.filter(tenant_id=lead.tenant_id, owner=locked).open()
            open_now = (others.exclude(pk=lead.pk) if lead.pk is not None else others).count()
        why = _cannot_take(locked, open_now)
        if not why:
            pick.user, pick.open_leads = locked, open_now
            return pick
        excluded[locked.pk] = why


def _choose_among(people: list[RankedUser]) -> Pick:
    """Who of these (each annotated with `open_leads`) gets the lead, and why the others could not."""
    pick = Pick()
    eligible = []
    for person in people:
        why = _cannot_take(person, person.open_leads)
        if why:
            pick.refused[why] = pick.refused.get(why, 0) + 1
        else:
            eligible.append(person)
    if eligible:
        _choose(pick, eligible)
    return pick


def _choose(pick: Pick, eligible: list[RankedUser]) -> None:
    candidates = eligible
    if len(eligible) > 1:
        # Nobody gets two routed leads in a row while a colleague in the pool can take one.
        latest = max(eligible, key=_waited_since)
        if latest.last_assigned_at is not None:
            # (Identity, not pk: each person is one object here, and pk is a property call per use.)
            candidates = [person for person in eligible if person is not latest]
            if min(eligible, key=_rank) is latest:
                pick.sat_out = latest
    best = min(candidates, key=_rank)
    pick.user, pick.open_leads = best, best.open_leads
    # Someone else (even the one sitting out) had as few open leads: the wait decided.
    pick.tie_broken_by_wait = any(p.open_leads == best.open_leads for p in eligible if p is not best)


def _rank(person: RankedUser) -> tuple:
    return (person.open_leads, _waited_since(person), person.id)


def _waited_since(person: User) -> dt.datetime:
    return person.last_assigned_at or NEVER


def _cannot_take(person: User, open_leads: int) -> str:
    if not person.is_active:
        return "inactive"
    if not person.is_available:
        return "away"
    if person.lead_capacity is not None and open_leads >= person.lead_capacity:
        return "full"
    return ""


def _open_leads(lead: Lead) -> Subquery:
    # A count per candidate in a subquery, not a join and GROUP BY: its WHERE lets PostgreSQL count
    # from the (tenant, owner, status) index instead of reading every lead a rep ever owned.
    leads = Lead.objects.filter(tenant_id=lead.tenant_id, owner_id=OuterRef("pk"), status__in=OPEN_STATUSES)
    if lead.pk is not None:  # the lead being routed does not count against its current owner
        leads = leads.exclude(pk=lead.pk)
    # COUNT(*), not COUNT(id): id is not in that index, and reading it costs a heap visit per lead.
    return Subquery(leads.order_by().values(n=Func(template="COUNT(*)", output_field=IntegerField())))


def _fairness(pick: Pick) -> str:
    text = f"{pick.open_leads} open lead{'' if pick.open_leads == 1 else 's'}"
    if pick.tie_broken_by_wait:
        text += ", longest wait"
    if pick.sat_out is not None:
        text += f"; {pick.sat_out} had the previous lead"
    return text


def _with(reason: str, passed_over: list[str]) -> str:
    return f"{reason} (passed over: {'; '.join(passed_over)})" if passed_over else reason


def _give(*, lead: Lead, decision: Decision, actor: User | None) -> RoutingResult:
    owner, reason, rule = decision.pick.user, decision.reason, decision.rule
    assert owner is not None  # a decision to give has picked someone
    if lead.owner_id == owner.pk:
        return RoutingResult(lead=lead, owner=owner, reason=f"already with {owner}: {reason}", rule=rule)
    lead = assign_lead(lead=lead, owner=owner, actor=actor, reason=reason, details=decision.details(), held=True)
    User.objects.filter(pk=owner.pk).update(last_assigned_at=lead.assigned_at)
    return RoutingResult(lead=lead, owner=owner, reason=reason, rule=rule)


def _leave_unassigned(*, lead: Lead, decision: Decision, actor: User | None) -> RoutingResult:
    if decision.say_unassigned:
        log.warning("Lead %s (tenant %s) not assigned: %s", lead.pk, lead.tenant_id, decision.reason)
        timeline.activity(
            **not_assigned_entry(lead=lead, owner_id=lead.owner_id, actor=actor, reason=decision.reason)
        ).save()
    return RoutingResult(lead=lead, owner=None, reason=decision.reason)


# --- conditions ------------------------------------------------------------------------------


def _rule_matches(rule: AssignmentRule, lead: Lead | dict, activity_counts: dict[str, int] | None) -> bool:
    try:
        return matches_all(rule.conditions or [], lead, activity_counts)
    except ConditionError:
        # The admin form refuses such rules; one written another way is skipped, not fatal.
        log.warning("Assignment rule %s (%s) has a condition that cannot be evaluated; skipped", rule.pk, rule.name,
                    exc_info=True)
        return False


def _uses_activity_counts(rule: AssignmentRule) -> bool:
    return isinstance(rule.conditions, list) and any(
        isinstance(condition, dict) and condition.get("operator") == RuleOperator.ACTIVITY_COUNT
        for condition in rule.conditions
    )


# --- a batch of new leads (import) ---------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    values: dict
    decision: Decision

    @property
    def owner(self) -> User | None:
        return self.decision.pick.user


@dataclass(frozen=True)
class Unwritten:
    """Leads a BatchRouter gave out that may not be committed yet (an import writes one batch while it
    routes the next): counted on top of what the database says, until `written`, a boolean subquery
    read in the same query (the same snapshot) as the counts, says they are there."""

    assigned: dict[int, int]  # owner pk -> leads given
    latest: dict[int, dt.datetime]  # owner pk -> the last of their stamps
    written: Exists

    @classmethod
    def of(cls, routed: Sequence[Routed], *, written: Exists) -> Unwritten:
        assigned: dict[int, int] = {}
        for one in routed:
            if one.owner is not None:
                assigned[one.owner.pk] = assigned.get(one.owner.pk, 0) + 1
        return cls(assigned=assigned, latest=latest_turns(routed), written=written)


def latest_turns(routed: Sequence[Routed]) -> dict[int, dt.datetime]:
    """Each owner's last stamp in a batch routed by BatchRouter: their `last_assigned_at` once it is written."""
    return {one.owner.pk: one.values["assigned_at"] for one in routed if one.owner is not None}


class BatchRouter:
    """Routes a batch of new, unsaved leads (an import) with place_new_lead's decision, counting in memory.

    The decision is _decide's, step for step; only the counts live in memory, so the thousandth lead of
    a batch sees the first 999. The caller writes the rows (owner, an "assigned" activity, a
    LeadAssigned event, the rep's last_assigned_at) in bulk; no email per lead.
    """

    def __init__(self, *, tenant: Tenant, activity_counts: dict[str, int]):
        self.tenant = tenant
        self.activity_counts = activity_counts  # what every lead of the batch has (e.g. one "imported")
        self.rules = list(
            AssignmentRule.objects.for_tenant(tenant)
            .filter(active=True)
            .prefetch_related("target_team")
            .order_by("priority", "id")
        )
        for rule in self.rules:
            try:  # checked once here rather than for every lead (an invalid one is skipped, as routing does)
                rule.conditions = parse_conditions(rule.conditions or [])
            except (ConditionError, TypeError):
                pass
        self.pools = {rule.pk: _pool(rule) for rule in self.rules}

    def route(self, rows: Sequence[dict], *, now: dt.datetime, unwritten: Unwritten | None = None) -> list[Routed]:
        """Owners for the open, unowned rows (set on each row as owner_id / assigned_at); `unwritten`: what
        an earlier route() gave out that the database may not show yet."""
        waiting = [row for row in rows if row.get("owner_id") is None and row.get("status") in OPEN_STATUSES]
        if not waiting:
            return []
        people = {
            person.pk: person
            for person in User.objects.filter(tenant_id=self.tenant.pk).annotate(
                open_leads=_open_leads(Lead(tenant_id=self.tenant.pk)),  # counted as routing counts them
                **({"unwritten_seen": unwritten.written} if unwritten is not None else {}),
            )
        }
        if unwritten is not None:
            for pk, person in people.items():
                if not getattr(person, "unwritten_seen"):
                    person.open_leads += unwritten.assigned.get(pk, 0)
                    person.last_assigned_at = unwritten.latest.get(pk, person.last_assigned_at)
        reps = sorted(pk for pk, person in people.items() if person.role == Role.REP)
        if not self.rules and not reps:
            return []  # routing is not in use in this workspace (as place_new_lead says)

        def pick_in(pool: set[int] | None) -> Pick:
            return _choose_among([people[pk] for pk in (reps if pool is None else sorted(pool)) if pk in people])

        def pool_of(rule: AssignmentRule) -> set[int]:
            return self.pools[rule.pk]

        routed = []
        for i, row in enumerate(waiting):
            decision = _decide(lead=row, rules=self.rules, activity_counts=self.activity_counts, pool_of=pool_of,
                               pick_in=pick_in)
            owner = cast("RankedUser | None", decision.pick.user)  # from pick_in: annotated with open_leads
            if owner is not None:
                # Distinct, increasing stamps: "who waited longest" must see this batch's order.
                stamp = now + dt.timedelta(microseconds=i)
                owner.open_leads += 1
                owner.last_assigned_at = stamp
                row["owner_id"], row["assigned_at"] = owner.pk, stamp
            routed.append(Routed(values=row, decision=decision))
        return routed
