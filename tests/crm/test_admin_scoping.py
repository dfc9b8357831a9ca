"""The admin shows, offers and searches only the signed-in user's tenant."""

import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.admin_tenancy import has_tenant_field
from crm.choices import EventType, Role
from crm.models import Activity, Event, Tenant, User
from leads.models import Lead, ScoringRule
from tests.factories import (
    ActivityFactory,
    ChannelFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
)


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")


def _side(tenant, *, owner, prefix, person, contact_name, company, deal, subject, channel, rule):
    channel = ChannelFactory(tenant=tenant, name=channel)
    company = CompanyFactory(tenant=tenant, name=company)
    first, last = person
    lead = LeadFactory(
        tenant=tenant,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}@{prefix}.example",
        owner=owner,
        channel=channel,
    )
    first, last = contact_name
    contact = ContactFactory(
        tenant=tenant, first_name=first, last_name=last, email=f"{first.lower()}@{prefix}.example", company=company
    )
    return SimpleNamespace(
        channel=channel,
        company=company,
        lead=lead,
        contact=contact,
        deal=DealFactory(tenant=tenant, name=deal, contact=contact, company=company),
        activity=ActivityFactory(lead=lead, subject=subject),
        rule=ScoringRule.objects.create(
            tenant=tenant,
            name=rule,
            category="demographic",
            field="job_title",
            operator="contains",
            value="VP",
            points=10,
        ),
        event=Event.objects.create(tenant=tenant, type=EventType.LEAD_CREATED, payload={"lead_id": lead.pk}),
    )


@pytest.fixture
def world(tenant, other_tenant, rep, manager, tenant_admin):
    """Tenant A (Acme) and tenant B (Globex), each with one row of every kind and distinctive names."""
    globex_user = UserFactory(
        tenant=other_tenant,
        username="gus_globex",
        first_name="Gustav",
        last_name="Globexson",
        email="gus@globex.example",
    )
    a = _side(
        tenant,
        owner=rep,
        prefix="acme",
        person=("Alice", "Anders"),
        contact_name=("Carla", "Acmeson"),
        company="Acme Widgets",
        deal="Acme Rollout",
        subject="Acme kickoff call",
        channel="Acme Website",
        rule="Acme VP bonus",
    )
    b = _side(
        other_tenant,
        owner=globex_user,
        prefix="globex",
        person=("Boris", "Globovich"),
        contact_name=("Gina", "Globetrotter"),
        company="Globex Corporation",
        deal="Globex Megadeal",
        subject="Globex secret call",
        channel="Globex Hotline",
        rule="Globex CFO bonus",
    )
    a.users, b.users = [rep, manager, tenant_admin], [globex_user]
    return SimpleNamespace(a=a, b=b)


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


# changelist -> (rows of one side, the texts that identify them)
CHANGELISTS = {
    "leads/lead": lambda s: [(s.lead, [s.lead.email, s.lead.last_name])],
    "leads/channel": lambda s: [(s.channel, [s.channel.name])],
    "leads/scoringrule": lambda s: [(s.rule, [s.rule.name])],
    "contacts/contact": lambda s: [(s.contact, [s.contact.email, s.contact.last_name])],
    "contacts/company": lambda s: [(s.company, [s.company.name])],
    "contacts/deal": lambda s: [(s.deal, [s.deal.name])],
    "crm/activity": lambda s: [(s.activity, [s.activity.subject])],
    "crm/event": lambda s: [(s.event, [])],
    "crm/user": lambda s: [(u, [u.username]) for u in s.users],
}


@pytest.mark.parametrize("role", ["rep", "manager", "tenant_admin"])
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_changelist_shows_own_tenant_rows_only(client, world, request, role, changelist):
    user = request.getfixturevalue(role)
    client.force_login(user)
    app_label, model_name = changelist.split("/")

    response = client.get(f"/admin/{changelist}/")

    html = response.content.decode()
    for obj, texts in CHANGELISTS[changelist](world.b):
        assert change_url(obj) not in html
        for text in texts:
            assert text not in html
    if not user.has_perm(f"{app_label}.view_{model_name}"):
        assert response.status_code == 403  # the role does not include this page at all
        return
    assert response.status_code == 200
    for obj, texts in CHANGELISTS[changelist](world.a):
        assert change_url(obj) in html
        for text in texts:
            assert text in html


def test_roles_see_the_pages_their_groups_grant(client, world, rep, manager, tenant_admin):
    client.force_login(rep)
    assert client.get("/admin/leads/lead/").status_code == 200
    client.force_login(manager)
    assert client.get("/admin/crm/event/").status_code == 200
    client.force_login(tenant_admin)
    assert client.get("/admin/crm/user/").status_code == 200


def test_lead_list_filters_offer_only_own_tenant_owners_and_channels(client, world, manager):
    client.force_login(manager)

    html = client.get("/admin/leads/lead/").content.decode()

    assert f"owner__id__exact={world.a.lead.owner_id}" in html
    assert "gus_globex" not in html and f"owner__id__exact={world.b.lead.owner_id}" not in html
    assert "Acme Website" in html and "Globex Hotline" not in html


@pytest.mark.parametrize("user_fixture", ["superuser", "tenant_admin"])
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_add_and_change_pages_render(client, world, request, user_fixture, changelist):
    client.force_login(request.getfixturevalue(user_fixture))
    obj, _ = CHANGELISTS[changelist](world.a)[0]

    assert client.get(change_url(obj)).status_code == 200
    assert client.get(f"/admin/{changelist}/add/").status_code in (200, 403)  # events cannot be added


def test_superuser_sees_every_tenant(client, world, superuser):
    client.force_login(superuser)

    html = client.get("/admin/leads/lead/").content.decode()

    assert world.a.lead.email in html and world.b.lead.email in html
    assert "Globex Sales" in html  # the tenant column


@pytest.mark.parametrize("role", ["rep", "manager"])
@pytest.mark.parametrize("obj_name", ["lead", "contact", "company", "deal", "activity", "channel", "rule"])
def test_other_tenants_object_pages_are_not_shown(client, world, request, role, obj_name):
    client.force_login(request.getfixturevalue(role))
    obj = getattr(world.b, obj_name)

    for suffix in ("change/", "history/", "delete/"):
        response = client.get(change_url(obj).replace("change/", suffix))
        # 403 where the role may not delete at all; otherwise "doesn't exist" and back to the index.
        assert response.status_code in (302, 403, 404), suffix
        if response.status_code == 302:
            assert response.url == "/admin/"
        assert str(obj) not in response.content.decode()
    followed = client.get(change_url(obj), follow=True)
    assert "doesn’t exist" in followed.content.decode()


def _options(html: str, name: str) -> set[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return set(re.findall(r'<option value="(\d+)"', select.group(0)))


def test_lead_add_form_offers_only_own_tenant_owners_and_channels(client, world, rep, tenant):
    client.force_login(rep)

    html = client.get("/admin/leads/lead/add/").content.decode()

    assert _options(html, "owner") == {
        str(pk) for pk in User.objects.filter(tenant=tenant).values_list("pk", flat=True)
    }
    assert _options(html, "channel") == {str(world.a.channel.pk)}
    assert "gus_globex" not in html and "Globex Hotline" not in html
    # The tenant is not a choice: it is a disabled hidden input pinned to the user's tenant.
    assert '<select name="tenant"' not in html
    assert re.search(rf'<input type="hidden" name="tenant" value="{tenant.pk}"[^>]*disabled', html)


def _lead_form(**overrides) -> dict:
    data = {
        "first_name": "Nora",
        "last_name": "New",
        "email": "  Nora@Acme.Example ",
        "phone": "",
        "job_title": "",
        "company": "",
        "industry": "",
        "employee_count": "",
        "annual_revenue": "",
        "website": "",
        "country": "",
        "message": "",
        "status": "new",
        "priority": "medium",
        "disqualification_reason": "",
        "owner": "",
        "source": "manual",
        "channel": "",
        "campaign": "",
        "source_url": "",
        "referrer": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "custom_fields": "{}",
    }
    data.update({"activities-TOTAL_FORMS": "0", "activities-INITIAL_FORMS": "0"})  # the "log an activity" inline
    data.update(overrides)
    return data


def test_added_lead_and_its_note_belong_to_the_users_tenant_whatever_is_posted(
    client, world, rep, tenant, other_tenant
):
    client.force_login(rep)

    response = client.post(
        "/admin/leads/lead/add/",
        _lead_form(
            **{
                "tenant": other_tenant.pk,
                "owner": rep.pk,
                "activities-TOTAL_FORMS": "1",
                "activities-0-kind": "call",
                "activities-0-subject": "Intro call",
            }
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get(email="nora@acme.example")  # stored the way lookups expect
    assert lead.tenant == tenant
    note = Activity.objects.get(lead=lead, subject="Intro call")
    assert (note.tenant, note.actor) == (tenant, rep)
    assert lead.last_activity_at == note.occurred_at  # logged through the timeline's entry point


def test_lead_form_refuses_another_tenants_owner(client, world, rep):
    client.force_login(rep)

    response = client.post("/admin/leads/lead/add/", _lead_form(owner=world.b.users[0].pk))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Lead.objects.filter(email="nora@acme.example").exists()


def test_deal_stage_change_in_the_admin_goes_through_change_stage(client, world, manager):
    deal = world.a.deal
    client.force_login(manager)

    response = client.post(
        change_url(deal),
        {
            "name": deal.name,
            "stage": "closed_won",
            "amount": "1200",
            "currency": "USD",
            "contact": deal.contact_id,
            "company": deal.company_id,
            "owner": "",
            "expected_close_date": "",
            **{f"{p}-{n}": "0" for p in ("activities", "activities-2") for n in ("TOTAL_FORMS", "INITIAL_FORMS")},
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.stage == "closed_won" and deal.closed_at is not None
    assert Activity.objects.filter(deal=deal, kind="status_changed", actor=manager).exists()


AUTOCOMPLETES = [
    # (source app, source model, field, side attribute)
    ("contacts", "contact", "company", "company"),
    ("contacts", "deal", "contact", "contact"),
    ("crm", "activity", "lead", "lead"),
    ("crm", "activity", "deal", "deal"),
    ("leads", "lead", "converted_contact", "contact"),  # the conversion page's pickers
    ("leads", "lead", "converted_company", "company"),
]


@pytest.mark.parametrize("role", ["rep", "manager"])
@pytest.mark.parametrize(("app_label", "model_name", "field_name", "target"), AUTOCOMPLETES)
def test_autocomplete_returns_own_tenant_rows_only(
    client, world, request, role, app_label, model_name, field_name, target
):
    client.force_login(request.getfixturevalue(role))
    url = f"/admin/autocomplete/?app_label={app_label}&model_name={model_name}&field_name={field_name}"

    everything = client.get(url)
    searched = client.get(url + "&term=glob")

    assert everything.status_code == 200
    ids = {row["id"] for row in everything.json()["results"]}
    assert str(getattr(world.a, target).pk) in ids
    assert str(getattr(world.b, target).pk) not in ids
    assert searched.json()["results"] == []


def test_tenant_page_is_for_the_platform_and_shows_a_tenant_user_only_their_own(client, world, superuser, tenant_admin):
    client.force_login(superuser)
    html = client.get("/admin/crm/tenant/").content.decode()
    assert "Acme Sales" in html and "Globex Sales" in html

    client.force_login(tenant_admin)
    assert client.get("/admin/crm/tenant/").status_code == 403  # no role grants it
    tenant_admin.user_permissions.add(*Permission.objects.filter(codename__in=["view_tenant", "add_tenant"]))
    tenant_admin = User.objects.get(pk=tenant_admin.pk)  # drop the cached permissions
    client.force_login(tenant_admin)
    html = client.get("/admin/crm/tenant/").content.decode()
    assert "Acme Sales" in html and "Globex Sales" not in html
    assert client.get("/admin/crm/tenant/add/").status_code == 403


def test_tenant_admin_manages_own_users_without_platform_fields(client, world, tenant_admin, rep, tenant):
    User.objects.create_superuser("sam_super", "sam@example.com", "pw-for-tests-123", tenant=tenant)
    client.force_login(tenant_admin)

    listing = client.get("/admin/crm/user/").content.decode()
    form = client.get(change_url(rep)).content.decode()
    response = client.post(
        change_url(rep),
        {
            "username": rep.username,
            "first_name": "Rita",
            "last_name": "Rep",
            "email": rep.email,
            "role": Role.MANAGER,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "tenant": world.b.users[0].tenant_id,
        },
    )

    assert "sam_super" not in listing and "gus_globex" not in listing
    assert "Sales rep" in listing  # the role column
    for name in ("is_superuser", "groups", "user_permissions"):
        assert f'name="{name}"' not in form
    assert '<select name="tenant"' not in form
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.role, rep.is_superuser, rep.tenant) == (Role.MANAGER, False, tenant)


def test_user_without_tenant_sees_nothing(rf, world):
    request = rf.get("/admin/")
    request.user = User(username="ghost", is_staff=True, tenant=None)  # only reachable if the constraint is bypassed

    for model, model_admin in admin.site._registry.items():
        if has_tenant_field(model) or model is Tenant:
            assert not model_admin.get_queryset(request).exists(), model


def test_lead_changelist_queries_do_not_grow_with_rows(client, world, manager, tenant):
    client.force_login(manager)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/leads/lead/").status_code == 200
        return len(queries)

    few = count_queries()
    LeadFactory.create_batch(10, tenant=tenant, owner=manager)
    assert count_queries() == few


@pytest.mark.parametrize("role", ["rep", "manager"])
@pytest.mark.parametrize("suffix", ["convert/", "log/"])
def test_another_tenants_lead_has_no_conversion_page_or_quick_log(client, world, request, role, suffix):
    client.force_login(request.getfixturevalue(role))
    url = f"/admin/leads/lead/{world.b.lead.pk}/{suffix}"

    got, posted = client.get(url), client.post(url, {"kind": "note", "body": "sneaky", "deal": "new"})

    assert (got.status_code, posted.status_code) == (404, 404)
    assert world.b.lead.email not in got.content.decode()
    world.b.lead.refresh_from_db()
    assert world.b.lead.status == "new"
    assert not Activity.objects.filter(lead=world.b.lead, body="sneaky").exists()


@pytest.mark.parametrize("role", ["rep", "manager"])
@pytest.mark.parametrize(
    ("action", "answer"),
    [
        ("change_lead_status", {"status": "contacted"}),
        ("disqualify_leads", {"reason": "Not ours"}),
        ("convert_leads", {}),
        ("assign_to_me", {}),
        ("assign_to_rep", {}),
        ("rescore_selected", {}),
    ],
)
def test_actions_never_list_or_touch_another_tenants_leads(client, world, request, role, action, answer):
    user = request.getfixturevalue(role)
    client.force_login(user)
    selection = {"action": action, "_selected_action": [world.a.lead.pk, world.b.lead.pk]}

    page = client.post("/admin/leads/lead/", selection)
    client.post("/admin/leads/lead/", {**selection, **answer, "apply": "yes", "owner": user.pk})

    assert world.b.lead.email not in page.content.decode() and "Globovich" not in page.content.decode()
    before = world.b.lead
    after = Lead.objects.get(pk=before.pk)
    unchanged = (before.status, before.owner_id, before.score_updated_at)
    assert (after.status, after.owner_id, after.score_updated_at) == unchanged
    assert not Activity.objects.filter(lead=after).exclude(pk=world.b.activity.pk).exists()


def test_contact_and_deal_forms_offer_only_own_tenant_owners(client, world, manager, tenant):
    client.force_login(manager)
    own = {str(pk) for pk in User.objects.filter(tenant=tenant).values_list("pk", flat=True)}

    for obj in (world.a.contact, world.a.deal, world.a.company):
        html = client.get(change_url(obj)).content.decode()
        assert _options(html, "owner") == own, obj
        assert "gus_globex" not in html and "Globex" not in html
