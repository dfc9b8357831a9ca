"""Lead list filters whose choices cost the same with ten leads or a million.

Django's related-field filters list every row of the related table (other tenants' users and
channels) or scan the leads for the values in use (a DISTINCT over the whole table); these list
the workspace's own users and channels, and the campaigns of the latest leads.
"""

import datetime as dt

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin_tenancy import of_users_tenant
from leads.choices import OPEN_STATUSES, ScoreBand
from leads.models import Lead

RECENT_LEADS_FOR_CAMPAIGNS = 1_000


class WorkspaceRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter offering the rows of the user's own workspace."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model._default_manager.all()
        if not request.user.is_superuser:
            related = of_users_tenant(related, request.user)
        ordering = self.field_admin_ordering(field, request, model_admin) or related.model._meta.ordering or ["pk"]
        return [(row.pk, str(row)) for row in related.order_by(*ordering)]


class OwnerFilter(WorkspaceRelatedFilter):
    """Mine, unassigned, or (for managers) one person's leads; keeps Django's owner__id__exact / owner__isnull."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.me = request.user
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("owner")

    def field_choices(self, field, request, model_admin):
        if not (request.user.is_superuser or request.user.is_manager):
            return []  # a rep's list holds only their own and unassigned leads: "Mine" and "Unassigned" say it all
        users = field.related_model._default_manager.filter(is_active=True)
        if not request.user.is_superuser:
            users = of_users_tenant(users, request.user)
        return [
            (user.pk, user.get_full_name() or user.username)
            for user in users.order_by("first_name", "last_name", "username")
        ]

    def has_output(self):
        return True

    def choices(self, changelist):
        selected = [str(value) for value in (self.lookup_val or [])]
        yield {
            "selected": not selected and not self.lookup_val_isnull,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]),
            "display": _("All"),
        }
        yield {
            "selected": selected == [str(self.me.pk)],
            "query_string": changelist.get_query_string({self.lookup_kwarg: self.me.pk}, [self.lookup_kwarg_isnull]),
            "display": _("Mine"),
        }
        yield {
            "selected": bool(self.lookup_val_isnull),
            "query_string": changelist.get_query_string({self.lookup_kwarg_isnull: "True"}, [self.lookup_kwarg]),
            "display": _("Unassigned"),
        }
        for pk, name in self.lookup_choices:
            if pk == self.me.pk:
                continue  # already offered as "Mine"
            yield {
                "selected": selected == [str(pk)],
                "query_string": changelist.get_query_string({self.lookup_kwarg: pk}, [self.lookup_kwarg_isnull]),
                "display": name,
            }


class CampaignFilter(admin.SimpleListFilter):
    """Campaigns of the latest leads: a DISTINCT over every lead would read the whole table on each page view."""

    title = _("campaign")
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        # Bounded by rows read, not rows found: filtering on campaign first could walk every lead.
        latest = model_admin.get_queryset(request).order_by("-created_at", "-id").values("pk")
        latest = latest[:RECENT_LEADS_FOR_CAMPAIGNS]
        campaigns = set(
            Lead.objects.filter(pk__in=latest)
            .exclude(campaign="")
            .order_by()
            .values_list("campaign", flat=True)
            .distinct()
        )
        if value := self.value():
            campaigns.add(value)
        return [(name, name) for name in sorted(campaigns, key=str.lower)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(campaign=self.value())
        return queryset


# --- saved views: the lists a rep opens every morning, one click each ------------------------------------

UNTOUCHED_AFTER = dt.timedelta(hours=24)


def saved_views(user) -> list[tuple[str, str, Q]]:
    """(slug, label, condition) of each saved view; every one is about open leads."""
    cutoff = timezone.now() - UNTOUCHED_AFTER
    return [
        ("my-hot", "My hot leads", Q(owner=user, score_band=ScoreBand.HOT)),
        ("unassigned", "Unassigned", Q(owner__isnull=True)),
        # No call, note, email or form since it came in, for a day or more (or nothing for a day since the last).
        ("untouched-24h", "Untouched for 24 h",
         Q(last_activity_at__isnull=True, created_at__lte=cutoff) | Q(last_activity_at__lte=cutoff)),
    ]


class SavedViewFilter(admin.SimpleListFilter):
    """The saved views as a filter (?view=my-hot), also offered as one-click tabs above the list."""

    title = _("saved view")
    parameter_name = "view"

    def lookups(self, request, model_admin):
        return [(slug, label) for slug, label, _condition in saved_views(request.user)]

    def queryset(self, request, queryset):
        for slug, _label, condition in saved_views(request.user):
            if self.value() == slug:
                return queryset.filter(condition, status__in=OPEN_STATUSES)
        return queryset
