"""Who may see and change what: the one policy every service entry point and door asks.

- Workspace: a user sees and changes rows of their own tenant only. Platform superusers (who may have
  no tenant) see every tenant; a user without a tenant sees nothing.
- Role: managers and admins see and change every row of their workspace.
- Ownership: a rep changes the rows they own and rows nobody owns. Of leads a rep also *sees* only
  those, unless the workspace turns on `reps_read_all_leads` (reading only: change rights stay).
  Contacts, companies and deals are seen by the whole workspace.
- Timeline: an activity is seen when its lead, contact or deal is (so a rep misses only entries on a
  colleague's lead alone), and changed by its author or a manager.
- Assignment: a rep gives a row to themselves or to nobody; handing it to a colleague is a manager's call.
- People: everyone reads their workspace's users (to assign). Managers create and change reps; tenant
  admins anyone of the workspace. Anyone may mark themselves away or back; nobody changes their own role
  or deactivates themselves (another admin does, so a workspace never locks itself out).

crm is the bottom app: rows are told apart by their fields (`tenant_id`, `owner_id`) and their model
label, never by importing leads or contacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .choices import Role
from .models import Activity

if TYPE_CHECKING:
    from django.db.models import Model

    from .models import User

# Rows a rep sees only when they own them or nobody does (unless the workspace opens them for reading).
OWNER_SCOPED_READS = frozenset({"leads.lead"})


class AccessDenied(PermissionDenied):
    """The user may not do this to that row; the message says why. Doors answer 403 or a form error.

    A PermissionDenied, so a door that forgets to turn it into something kinder still answers 403.
    """


def can_view(user: User, row: Model) -> bool:
    """Whether `user` may see `row`."""
    if not _in_workspace(user, row):
        return False
    if user.is_manager:
        return True
    if isinstance(row, Activity):
        return row.lead_id is None or row.contact_id is not None or row.deal_id is not None or (row.lead is not None and can_view(user, row.lead))
    if row._meta.label_lower in OWNER_SCOPED_READS and not _reps_read_all_leads(user):
        return _mine_or_nobodys(user, row)
    return True


def can_change(user: User, row: Model) -> bool:
    """Whether `user` may change `row` (or work it: log on it, assign it, convert it, attach it)."""
    if not _in_workspace(user, row):
        return False
    if user.is_manager:
        return True
    if isinstance(row, Activity):
        return row.actor_id is not None and row.actor_id == user.pk
    return _mine_or_nobodys(user, row)


def check_change(user: User | None, row: Model) -> None:
    """Raise AccessDenied unless `user` may change `row`; no user (the system, an import) may change anything."""
    if user is None or can_change(user, row):
        return
    if not can_view(user, row):  # a row the user may not see is not named, nor is its owner
        raise AccessDenied(f"No such {row._meta.verbose_name} in your workspace.")
    if isinstance(row, Activity):
        raise AccessDenied("Reps edit activities they logged themselves only.")
    raise AccessDenied(
        f"Reps change their own and unassigned {row._meta.verbose_name_plural} only; "
        f"this one belongs to {getattr(row, 'owner', None)}. Ask them or a manager."
    )


def check_assign(user: User | None, owner: User | None) -> None:
    """Raise AccessDenied unless `user` may make `owner` the owner of a row: a rep only themselves or nobody."""
    if user is None or user.is_manager or owner is None or owner.pk == user.pk:
        return
    raise AccessDenied("Reps assign leads to themselves only; ask a manager to give it to someone else.")


def check_delete(user: User | None, row: Model) -> None:
    """Raise AccessDenied unless `user` may delete `row`: managers and admins of its workspace only."""
    if user is None:
        return
    if not can_view(user, row):
        raise AccessDenied(f"No such {row._meta.verbose_name} in your workspace.")
    if not user.is_manager:
        raise AccessDenied(f"Deleting {row._meta.verbose_name_plural} is for managers; disqualify it instead.")


# Who manages whom: the roles a role may create, change and deactivate.
MANAGED_ROLES: dict[str, frozenset[str]] = {Role.MANAGER: frozenset({Role.REP}), Role.ADMIN: frozenset(Role)}
# What a person may change of their own account without managing it.
SELF_SERVICE_USER_FIELDS = frozenset({"is_available", "first_name", "last_name"})


def roles_managed_by(user: User) -> frozenset[str]:
    """The roles of the users `user` may create and change (platform superusers: every role)."""
    if user.is_superuser:
        return frozenset(Role)
    if user.tenant_id is None:
        return frozenset()
    return MANAGED_ROLES.get(user.role, frozenset())


def check_user_create(actor: User | None, *, role: str) -> None:
    """Raise AccessDenied unless `actor` may create a user with `role` in their workspace (None: an operator)."""
    if actor is None or role in roles_managed_by(actor):
        return
    raise AccessDenied(_refusal(actor, "create", role))


def check_user_change(actor: User | None, target: User, fields: set[str], *, role: str | None = None) -> None:
    """Raise AccessDenied unless `actor` may change `fields` of `target` (`role`: the new role, if it changes)."""
    if actor is None:
        return
    if not actor.is_superuser and (actor.tenant_id is None or actor.tenant_id != target.tenant_id or target.is_superuser):
        raise AccessDenied("No such user in your workspace.")
    if actor.pk == target.pk:
        if fields & {"role", "is_active"}:
            raise AccessDenied("Nobody changes their own role or deactivates themselves; ask another admin.")
        if fields <= SELF_SERVICE_USER_FIELDS or actor.is_superuser:
            return
    managed = roles_managed_by(actor)
    if target.role not in managed:
        raise AccessDenied(_refusal(actor, "change", target.role))
    if role is not None and role not in managed:
        raise AccessDenied(_refusal(actor, "promote", role))


def _refusal(actor: User, verb: str, role: str) -> str:
    label = Role(role).label.lower() if role in Role.values else role
    if actor.role == Role.MANAGER:
        if verb == "promote":
            return f"Managers cannot make anyone a {label}; ask a tenant admin."
        return f"Managers {verb} sales reps only, not a {label}; ask a tenant admin."
    if verb == "change":
        return "Reps change only their own availability and name; ask a manager."
    return "Only managers and tenant admins create users; ask one of them."


def visible(user: User, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` that `user` may see."""
    queryset = _workspace(user, queryset)
    if user.is_manager:
        return queryset
    model = queryset.model
    if model is Activity:
        leads = model._meta.get_field("lead").related_model._default_manager.all()
        # On a contact or deal (seen by the whole workspace), or on a lead the user sees.
        return queryset.filter(
            Q(lead__isnull=True) | Q(contact__isnull=False) | Q(deal__isnull=False) | Q(lead__in=visible(user, leads))
        )
    if model._meta.label_lower in OWNER_SCOPED_READS and not _reps_read_all_leads(user):
        return _own_or_unowned(user, queryset)
    return queryset


def changeable(user: User, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` that `user` may change."""
    queryset = _workspace(user, queryset)
    if user.is_manager:
        return queryset
    if queryset.model is Activity:
        return queryset.filter(actor_id=user.pk) if user.pk is not None else queryset.none()
    return _own_or_unowned(user, queryset)


def _in_workspace(user: User, row: Model) -> bool:
    return user.is_superuser or (user.tenant_id is not None and getattr(row, "tenant_id", None) == user.tenant_id)


def _workspace(user: User, queryset: QuerySet) -> QuerySet:
    if user.is_superuser:
        return queryset
    if user.tenant_id is None:
        return queryset.none()
    return queryset.filter(tenant_id=user.tenant_id)


def _mine_or_nobodys(user: User, row: Model) -> bool:
    owner_id = getattr(row, "owner_id", None)  # rows without an owner (channels, rules, users) are nobody's
    return owner_id is None or owner_id == user.pk


def _own_or_unowned(user: User, queryset: QuerySet) -> QuerySet:
    if user.pk is None:
        return queryset.none()  # an unsaved user owns nothing
    return queryset.filter(Q(owner_id=user.pk) | Q(owner__isnull=True))


def _reps_read_all_leads(user: User) -> bool:
    # user.tenant is cached on the user, so a request reads the workspace's setting once.
    tenant = user.tenant
    return tenant is not None and tenant.reps_read_all_leads
