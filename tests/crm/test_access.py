"""crm.access: the one policy for who sees and changes what (workspace, role, ownership, authorship)."""

import pytest

from contacts.models import Contact, Deal
from crm import access
from crm.models import Activity, User
from leads.models import Lead
from tests.factories import ActivityFactory, ContactFactory, DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(tenant):
    return UserFactory(tenant=tenant, username="carl")


@pytest.fixture
def rows(tenant, other_tenant, rep, colleague):
    stranger = UserFactory(tenant=other_tenant, username="gus")
    return {
        "mine": LeadFactory(tenant=tenant, owner=rep),
        "free": LeadFactory(tenant=tenant, owner=None),
        "carls": LeadFactory(tenant=tenant, owner=colleague),
        "foreign": LeadFactory(tenant=other_tenant, owner=stranger),
    }


def names(queryset, rows) -> set[str]:
    pks = set(queryset.values_list("pk", flat=True))
    return {name for name, row in rows.items() if row.pk in pks}


def test_a_rep_sees_and_changes_their_own_and_unassigned_leads(rep, rows):
    assert names(access.visible(rep, Lead.objects.all()), rows) == {"mine", "free"}
    assert names(access.changeable(rep, Lead.objects.all()), rows) == {"mine", "free"}
    assert [access.can_view(rep, rows[n]) for n in rows] == [True, True, False, False]
    assert [access.can_change(rep, rows[n]) for n in rows] == [True, True, False, False]


def test_reps_read_every_lead_when_the_workspace_says_so_but_still_change_only_theirs(tenant, rep, rows):
    tenant.reps_read_all_leads = True
    tenant.save()
    rep = User.objects.get(pk=rep.pk)  # the setting is read from the user's workspace

    assert names(access.visible(rep, Lead.objects.all()), rows) == {"mine", "free", "carls"}
    assert access.can_view(rep, rows["carls"]) and not access.can_view(rep, rows["foreign"])
    assert names(access.changeable(rep, Lead.objects.all()), rows) == {"mine", "free"}
    assert not access.can_change(rep, rows["carls"])


def test_a_manager_sees_and_changes_the_workspace_only(manager, rows):
    assert names(access.visible(manager, Lead.objects.all()), rows) == {"mine", "free", "carls"}
    assert names(access.changeable(manager, Lead.objects.all()), rows) == {"mine", "free", "carls"}
    assert not access.can_view(manager, rows["foreign"]) and not access.can_change(manager, rows["foreign"])


def test_a_platform_superuser_sees_every_workspace_and_a_user_without_one_nothing(rows):
    platform = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")
    ghost = User(username="ghost", tenant=None)

    assert names(access.visible(platform, Lead.objects.all()), rows) == set(rows)
    assert access.can_change(platform, rows["foreign"])
    assert not access.visible(ghost, Lead.objects.all()).exists()
    assert not access.can_view(ghost, rows["free"])


def test_contacts_and_deals_are_seen_by_the_workspace_and_changed_by_their_owner(tenant, rep, colleague):
    theirs = ContactFactory(tenant=tenant, owner=colleague)
    deal = DealFactory(tenant=tenant, owner=colleague)

    assert access.visible(rep, Contact.objects.all()).filter(pk=theirs.pk).exists()
    assert access.can_view(rep, deal)
    assert not access.changeable(rep, Deal.objects.all()).exists()
    with pytest.raises(access.AccessDenied, match="own and unassigned deals only; this one belongs to carl"):
        access.check_change(rep, deal)


def test_a_timeline_entry_is_seen_with_its_lead_and_changed_by_its_author(tenant, rep, manager, colleague, rows):
    on_carls_lead = ActivityFactory(lead=rows["carls"], actor=colleague)
    on_carls_lead_and_contact = ActivityFactory(
        lead=rows["carls"], contact=ContactFactory(tenant=tenant), actor=colleague
    )
    mine_on_free_lead = ActivityFactory(lead=rows["free"], actor=rep)
    carls_on_free_lead = ActivityFactory(lead=rows["free"], actor=colleague)

    seen = set(access.visible(rep, Activity.objects.all()).values_list("pk", flat=True))
    assert seen == {on_carls_lead_and_contact.pk, mine_on_free_lead.pk, carls_on_free_lead.pk}
    assert not access.can_view(rep, on_carls_lead) and access.can_view(rep, on_carls_lead_and_contact)
    assert list(access.changeable(rep, Activity.objects.all())) == [mine_on_free_lead]
    assert access.can_change(rep, mine_on_free_lead) and not access.can_change(rep, carls_on_free_lead)
    assert access.can_change(manager, carls_on_free_lead)
    with pytest.raises(access.AccessDenied, match="logged themselves"):
        access.check_change(rep, carls_on_free_lead)


def test_no_actor_is_the_system_and_may_change_anything(rows):
    access.check_change(None, rows["carls"])
    access.check_assign(None, rows["carls"].owner)


def test_a_rep_assigns_to_themselves_or_nobody_and_a_manager_to_anyone(rep, manager, colleague):
    access.check_assign(rep, rep)
    access.check_assign(rep, None)
    access.check_assign(manager, colleague)
    with pytest.raises(access.AccessDenied, match="Reps assign leads to themselves only"):
        access.check_assign(rep, colleague)


def test_refusals_are_permission_denied_so_a_door_that_forgets_them_answers_403():
    from django.core.exceptions import PermissionDenied

    assert issubclass(access.AccessDenied, PermissionDenied)
