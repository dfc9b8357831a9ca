"""Route a batch of imported leads as leads.routing routes one captured lead, in memory.

The decision is routing's, step for step: active assignment rules by priority (conditions through
routing's own matcher), each rule's pool, then round robin among available reps; who can take a
lead (routing._cannot_take) and who among them (routing._choose: fewest open leads, longest wait,
nobody twice in a row). What differs is only where the counts live: the batch's candidates are
read once with their open-lead counts and every lead given out is counted in memory, so the
thousandth lead of a batch sees the first 999 as captures would have. The writes (owner on the
lead row, an "assigned" activity, a LeadAssigned event, the rep's last_assigned_at) come out as
rows for the batch's bulk insert. The per-assignment email is not sent for imports: a rep given
2,000 imported leads should not get 2,000 mails.

Belongs in leads/routing.py (a batch entry point next to route_lead); kept here until its owner
takes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from crm.choices import Role
from crm.models import Tenant, User

from ..choices import OPEN_STATUSES
from ..conditions import ConditionError, parse_conditions
from ..models import AssignmentRule
from ..routing import Pick, _cannot_take, _choose, _fairness, _rule_matches, _with
from .insights import IMPORTED_COUNTS


@dataclass(frozen=True)
class Routed:
    values: dict
    owner: User | None
    reason: str
    details: dict


class BatchRouter:
    def __init__(self, *, tenant: Tenant):
        self.tenant = tenant
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
        self.pools = {
            rule.pk: {member.pk for member in rule.target_team.all()} | ({rule.target_user_id} - {None})
            for rule in self.rules
        }

    def route(self, rows: list[dict], *, now: dt.datetime) -> list[Routed]:
        """Owners for the open, unowned rows (set on each row as owner_id / assigned_at)."""
        waiting = [row for row in rows if row.get("owner_id") is None and row.get("status") in OPEN_STATUSES]
        if not waiting:
            return []
        people = {
            person.pk: person
            for person in User.objects.filter(tenant_id=self.tenant.pk).annotate(
                open_leads=Count(
                    "owned_leads",
                    filter=Q(owned_leads__status__in=OPEN_STATUSES, owned_leads__tenant_id=self.tenant.pk),
                )
            )
        }
        reps = sorted(pk for pk, person in people.items() if person.role == Role.REP)
        if not self.rules and not reps:
            return []  # routing is not in use in this workspace (as routing._leave_unassigned says)
        routed = []
        for i, row in enumerate(waiting):
            # Distinct, increasing stamps: "who waited longest" must see this batch's order.
            stamp = now + dt.timedelta(microseconds=i)
            routed.append(self._route_one(row, people=people, reps=reps, stamp=stamp))
        return routed

    def _route_one(self, row: dict, *, people: dict[int, User], reps: list[int], stamp: dt.datetime) -> Routed:
        passed_over: list[str] = []
        for rule in self.rules:
            if not _rule_matches(rule, row, IMPORTED_COUNTS):  # a new imported lead's only activity
                continue
            pool = self.pools[rule.pk]
            pick = _pick([people[pk] for pk in sorted(pool) if pk in people])
            if pick.user is None:
                passed_over.append(f'rule "{rule.name}" ({pick.refusal()})')
                continue
            reason = f'rule "{rule.name}"' if len(pool) == 1 else f'rule "{rule.name}": team rotation, {_fairness(pick)}'
            return _give(row, pick, _with(reason, passed_over), rule, stamp)
        pick = _pick([people[pk] for pk in reps])
        if pick.user is not None:
            return _give(row, pick, _with(f"round robin: {_fairness(pick)}", passed_over), None, stamp)
        reason = _with(f"round robin: {pick.refusal()}" if pick.refused else "round robin: no reps", passed_over)
        return Routed(values=row, owner=None, reason=reason, details={"routing": "none"})


def _pick(pool: list[User]) -> Pick:
    pick = Pick()
    eligible = []
    for person in pool:
        why = _cannot_take(person, person.open_leads)
        if why:
            pick.refused[why] = pick.refused.get(why, 0) + 1
        else:
            eligible.append(person)
    if eligible:
        _choose(pick, eligible)
    return pick


def _give(row: dict, pick: Pick, reason: str, rule: AssignmentRule | None, stamp: dt.datetime) -> Routed:
    owner = pick.user
    details = {"routing": "rule" if rule else "round_robin", "rule_id": rule.pk if rule else None,
               "open_leads": pick.open_leads}
    owner.open_leads += 1
    owner.last_assigned_at = stamp
    row["owner_id"], row["assigned_at"] = owner.pk, stamp
    return Routed(values=row, owner=owner, reason=reason, details=details)
