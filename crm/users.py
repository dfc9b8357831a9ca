"""A workspace's people: created, changed and deactivated here, whatever the door (API, admin, `create_user`).

Who may do what is crm.access's (`check_user_create`, `check_user_change`): managers look after reps,
tenant admins after everyone; anyone marks themselves away or back. A user is never deleted: a
deactivated one (`is_active` false) cannot sign in, their API tokens are revoked, and routing gives
them no new leads (leads/routing/service.py reads `is_active`, `is_available` and `lead_capacity`).
The leads they hold stay theirs until someone reassigns them.

Every save goes through `save(update_fields=...)`, so routing's per-process cache of the workspace's
people (leads/rules/config.py) is told at once that someone came, left, went away or filled up.
Users have no timeline (activities belong to a lead, contact or deal) and no event type yet: the
audit trail is the user's own row and, for deactivations, their revoked tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .access import check_user_change, check_user_create
from .choices import Role, TokenRevokeReason
from .models import Tenant, User
from .normalize import normalize_email
from .tokens import may_manage_tokens, tokens_revoke_for_user

USERNAME_MAX_LENGTH = cast(int, User._meta.get_field("username").max_length)
NAME_MAX_LENGTH = cast(int, User._meta.get_field("first_name").max_length)
CAPACITY_MAX = 2_147_483_647  # PostgreSQL's integer, which the column is
# What user_update takes; everything else of a user (username, workspace, staff flags) is the platform's.
CHANGEABLE_FIELDS = frozenset(
    {"first_name", "last_name", "email", "role", "is_available", "lead_capacity", "is_active", "password"}
)


def user_create(
    *,
    tenant: Tenant,
    actor: User | None,
    username: str,
    email: str,
    role: str = Role.REP,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_available: bool = True,
    lead_capacity: int | None = None,
) -> User:
    """Create a user of `tenant` who signs into the back office and the API; `actor` None is an operator.

    `password` None makes a user who cannot sign in with a password until one is set (e.g. by
    `manage.py changepassword`). Raises ValidationError naming each bad field, AccessDenied when
    `actor` may not create that role.
    """
    check_user_create(actor, role=role)
    user = User(
        tenant=tenant,
        username=_username(username),
        email=_email(email, required=True),
        role=_role(role),
        first_name=_name(first_name, "first_name"),
        last_name=_name(last_name, "last_name"),
        is_available=bool(is_available),
        lead_capacity=_capacity(lead_capacity),
        is_staff=True,  # the back office is every rep's and manager's door
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    try:
        with transaction.atomic():
            if User.objects.filter(username=user.username).exists():
                raise ValidationError({"username": [_username_taken(user.username)]})
            user.save(force_insert=True)
    except IntegrityError as exc:  # taken by a concurrent create between the check and the insert
        raise ValidationError({"username": [_username_taken(user.username)]}) from exc
    return user


def user_update(*, user: User, actor: User | None, changes: Mapping[str, Any]) -> User:
    """Change some of CHANGEABLE_FIELDS of `user`; returns the saved row.

    Deactivating revokes the user's API tokens (a changed password does too, through
    crm.tokens.RevokeTokensOnPasswordChange). Values equal to the current ones change nothing.
    """
    unknown = set(changes) - CHANGEABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in sorted(unknown)})
    cleaners: dict[str, Callable[[Any], Any]] = {
        "first_name": lambda v: _name(v, "first_name"),
        "last_name": lambda v: _name(v, "last_name"),
        "email": lambda v: _email(v, required=True),
        "role": _role,
        "is_available": bool,
        "lead_capacity": _capacity,
        "is_active": bool,
    }
    values = {name: cleaners[name](value) for name, value in changes.items() if name != "password"}
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = {name for name, value in values.items() if getattr(locked, name) != value}
        password = changes.get("password")
        if password is not None:
            changed.add("password")
        check_user_change(actor, locked, changed, role=values["role"] if "role" in changed else None)
        for name in changed - {"password"}:
            setattr(locked, name, values[name])
        if password is not None:
            _check_password(password, locked)
            locked.set_password(password)
        if changed:
            locked.save(update_fields=sorted(changed))
        if "is_active" in changed and not locked.is_active:
            user_deactivated(user=locked, actor=actor)
    return locked


def user_deactivate(*, user: User, actor: User | None) -> User:
    """Deactivate `user` (never a delete): no sign-in, no API tokens, no new leads."""
    return user_update(user=user, actor=actor, changes={"is_active": False})


def user_deactivated(*, user: User, actor: User | None) -> int:
    """What follows a deactivation, whichever door saved it (this module, the admin's form): the user's API
    tokens are revoked. Call it in the transaction that deactivated them; returns the tokens revoked."""
    # Tokens have their own rule (tenant admins manage them); a manager who may deactivate a rep revokes
    # the rep's tokens as part of that, so the revocation is then recorded as the system's.
    token_actor = actor if actor is not None and may_manage_tokens(actor, user) else None
    return tokens_revoke_for_user(user=user, reason=TokenRevokeReason.USER_DEACTIVATED, actor=token_actor)


def _username(value: str) -> str:
    username = (value or "").strip()
    if not username or len(username) > USERNAME_MAX_LENGTH:
        raise ValidationError({"username": [f"Give a username of 1 to {USERNAME_MAX_LENGTH} characters."]})
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from exc
    return username


def _username_taken(username: str) -> str:
    return f"The username {username!r} is taken; pick another."


def _email(value: str, *, required: bool) -> str:
    try:
        email = normalize_email(value)
    except ValidationError as exc:
        raise ValidationError({"email": ["Enter a valid email address, e.g. name@example.com."]}) from exc
    if required and not email:
        raise ValidationError({"email": ["Give the user's email address: lead notifications go there."]})
    if len(email) > 254:
        raise ValidationError({"email": ["An email address has at most 254 characters."]})
    return email


def _role(value: str) -> str:
    if value not in Role.values:
        raise ValidationError({"role": [f"Unknown role {value!r}; use one of: {', '.join(Role.values)}."]})
    return value


def _name(value: str, field: str) -> str:
    name = (value or "").strip()
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({field: [f"At most {NAME_MAX_LENGTH} characters."]})
    return name


def _capacity(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= CAPACITY_MAX:
        raise ValidationError({"lead_capacity": [f"Give a whole number from 0 to {CAPACITY_MAX}, or null for no limit."]})
    return value


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
