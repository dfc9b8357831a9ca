"""A demo workspace to click around in: leads with timelines, conversions, deals, and a second tenant.

Deterministic (fixed seed; times relative to now) and idempotent: when the demo tenant exists
nothing is written except a fresh API token for the admin (a token is shown only when it is
issued; the one the previous run printed is revoked), and the logins are reported again.
Names, companies and domains are made up; Faker is a test dependency, not a runtime one.

Leads and their history are written directly, backdated over ~60 days, rather than through
capture, assignment and lifecycle: those stamp "now", write outbox events and notify owners,
which seed data must not do. Conversion is the exception: it goes through Lead.objects.convert.
Scores are real: each workspace gets the default scoring rules (create_tenant) and its leads are
rescored by the set-based rescoring once their timelines are in (leads/rules/scoring.py).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from contacts.choices import CLOSED_STAGES, DealStage
from contacts.models import Company, Contact, Deal
from crm import timeline
from crm.choices import ActivityKind, Role
from crm.models import Activity, ApiToken, Tenant, User
from crm.normalize import normalize_phone
from crm.tokens import token_create, token_revoke
from leads.choices import LeadSource, LeadStatus, Priority, Recommendation, ScoreBand
from leads.first_contact import first_contacts_from_timeline
from leads.models import Channel, Lead
from leads.rules.scoring import (  # noqa: F401  (band_for, grade_for: importable here too)
    band_for,
    grade_for,
    rescore_leads,
)
from leads.workspaces import FIRST_TOKEN_NAME, WEBSITE_CHANNEL_NAME, TenantSetupError, create_tenant

SEED = 20240601
DEMO_SLUG, DEMO_NAME = "demo", "Demo Sales"
OTHER_SLUG, OTHER_NAME = "globex", "Globex Sales"
DEMO_LEADS, OTHER_LEADS, CONVERTED_LEADS = 40, 6, 6
DEMO_TOKEN_NAME = "seed_demo"


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    role: str
    first_name: str = ""
    last_name: str = ""


DEMO_ADMIN = Person("admin", "demo-admin-pass", Role.ADMIN, "Alex", "Admin")
DEMO_TEAM = (
    Person("maya", "demo-manager-pass", Role.MANAGER, "Maya", "Okafor"),
    Person("rita", "demo-rep-pass", Role.REP, "Rita", "Alvarez"),
    Person("sam", "demo-rep-pass", Role.REP, "Sam", "Lindqvist"),
)
OTHER_ADMIN = Person("globex-admin", "globex-sales-pass", Role.ADMIN, "Gloria", "Banks")

# Data tables read better as rows than as the formatter's one-item-per-line.
# fmt: off
# name, domain, industry, employees, annual revenue (USD), country
COMPANIES = (
    ("Brightwater Analytics", "brightwater-analytics.com", "Software", 240, 38_000_000, "US"),
    ("Kestrel Logistics", "kestrel-logistics.com", "Logistics", 1200, 310_000_000, "US"),
    ("Northgate Health Partners", "northgatehealth.com", "Healthcare", 3400, 720_000_000, "US"),
    ("Lumen & Vale", "lumenvale.co.uk", "Professional services", 85, 14_000_000, "GB"),
    ("Harbourline Insurance", "harbourline.co.uk", "Financial services", 2100, 540_000_000, "GB"),
    ("Quillfeather Publishing", "quillfeather.co.uk", "Media", 45, 6_500_000, "GB"),
    ("Tannenhof Maschinenbau", "tannenhof-mb.de", "Manufacturing", 860, 190_000_000, "DE"),
    ("Spreewerk Software", "spreewerk.de", "Software", 130, 21_000_000, "DE"),
    ("Maison Clairval", "clairval.fr", "Retail", 520, 95_000_000, "FR"),
    ("Atelier Numérique", "atelier-numerique.fr", "Software", 60, 8_000_000, "FR"),
    ("Maple Ridge Credit Union", "mapleridgecu.ca", "Financial services", 410, 88_000_000, "CA"),
    ("Northern Pixel Studios", "northernpixel.ca", "Media", 35, 4_200_000, "CA"),
    ("Coral Coast Energy", "coralcoastenergy.com.au", "Energy", 950, 260_000_000, "AU"),
    ("Wattle Street Legal", "wattlestreetlegal.com.au", "Professional services", 70, 12_000_000, "AU"),
    ("Grachtenhuis Fintech", "grachtenhuis.nl", "Financial services", 180, 27_000_000, "NL"),
    ("Polderveld Agritech", "polderveld.nl", "Agriculture", 95, 15_000_000, "NL"),
    ("Summit Peak Outdoor", "summitpeakoutdoor.com", "Retail", 300, 64_000_000, "US"),
    ("Ironclad Security Systems", "ironcladsec.com", "Cybersecurity", 220, 41_000_000, "US"),
    ("Bluefin Hospitality Group", "bluefinhospitality.com", "Hospitality", 1800, 230_000_000, "US"),
    ("Cedar & Stone Architects", "cedarstone-arch.com", "Professional services", 25, 3_100_000, "US"),
    ("Vantage Point Robotics", "vantagepointrobotics.com", "Manufacturing", 410, 77_000_000, "US"),
    ("Clearwell Learning", "clearwelllearning.com", "Education", 150, 18_000_000, "US"),
)

FIRST_NAMES = (
    "Olivia", "Marcus", "Priya", "Daniel", "Aisha", "Tomás", "Hannah", "Kenji", "Fatima", "Lucas",
    "Chloé", "Oluwaseun", "Ingrid", "Mateo", "Grace", "Rahul", "Elena", "Jonah", "Mei", "Samuel",
    "Zoë", "Ahmed", "Clara", "Diego", "Nadia", "Ethan", "Leila", "Finn", "Sofia", "Viktor",
)
LAST_NAMES = (
    "Bennett", "Okoye", "Sharma", "Fischer", "Haddad", "Nakamura", "Rossi", "Dubois", "Kowalski",
    "Andersson", "Mensah", "García", "Müller", "O'Brien", "Chen", "Patel", "Novak", "Laurent", "Silva",
    "Van Dijk", "Murphy", "Kim", "Schmidt", "Adeyemi", "Costa", "Larsen", "Moreau", "Walsh", "Tanaka",
)
# Job titles; the default scoring rules give them, from the top, 20, 15, 20, 12, 12, 12, 6, 6, 6, 0, 0, 0
TITLES = (
    "Chief Executive Officer", "VP of Sales", "Chief Revenue Officer",
    "Head of Growth", "Director of Marketing", "IT Director",
    "Sales Operations Manager", "Marketing Manager", "Procurement Manager",
    "Account Executive", "Business Development Representative", "Marketing Coordinator",
)
# Fictional-range numbers, one pattern per country; the trailing digits vary per lead.
PHONE_PATTERNS = {
    "US": "+1 415 555 01{:02d}", "CA": "+1 416 555 01{:02d}", "GB": "+44 20 7946 0{:03d}",
    "DE": "+49 30 901820{:02d}", "FR": "+33 1 42 68 {:02d} 10", "AU": "+61 2 9374 4{:03d}",
    "NL": "+31 20 794 1{:03d}", "NO": "+47 22 33 44 {:02d}",
}
# source, weight
SOURCES = (
    (LeadSource.WEBSITE_FORM, 14), (LeadSource.REFERRAL, 5), (LeadSource.IMPORT, 5), (LeadSource.API, 4),
    (LeadSource.CHAT, 4), (LeadSource.FACEBOOK_LEAD_AD, 3), (LeadSource.GOOGLE_LEAD_FORM, 3), (LeadSource.MANUAL, 2),
)
WEB_TRAFFIC = (  # utm_source, utm_medium, utm_campaign, campaign
    ("google", "cpc", "search-lead-routing", "Search: lead routing"),
    ("linkedin", "paid_social", "revops-guide-2024", "RevOps guide download"),
    ("newsletter", "email", "webinar-pipeline-hygiene", "Webinar: Pipeline hygiene"),
    ("", "", "", ""),  # organic
)
LANDING_PAGES = ("/pricing", "/demo", "/product/lead-scoring", "/resources/revops-guide", "/customers")
MESSAGES = (
    "We're evaluating tools to replace our spreadsheet-based lead tracking. Can we see a demo?",
    "Looking for pricing for around 25 sales reps.",
    "Do you integrate with our website forms and Facebook lead ads?",
    "Our SDR team is growing fast; we need routing rules by territory.",
    "Interested in lead scoring. How customizable are the rules?",
    "Can you import about 80k historical leads from CSV?",
    "",
    "",
)
DISQUALIFY_REASONS = (
    "No budget this fiscal year",
    "Student researching CRM tools, not a buyer",
    "Competitor looking at pricing",
    "Unresponsive after five attempts",
    "Existing customer contact, routed to account management",
)
CALL_NOTES = (
    "Connected. Current process is spreadsheets plus a shared inbox; pain is slow follow-up.",
    "Left voicemail, will try again Thursday.",
    "Good call: 12 reps, evaluating two other vendors, decision expected this quarter.",
    "Gatekeeper; asked to send an overview by email.",
    "Discussed integrations: website forms and Google Ads lead forms are must-haves.",
)
TASKS = ("Send pricing for team plan", "Follow up after demo", "Book discovery call", "Share case study", "Check in on trial")

EXISTING_CUSTOMERS = (  # accounts that predate the leads: company, contacts, deals (name, stage, amount, age, closed days ago)
    (
        ("Orchard Lane Foods", "orchardlanefoods.com", "Food & beverage", 640, 120_000_000, "US"),
        (("Wendy", "Castillo", "Procurement Lead"), ("Paul", "Asante", "Chief Operating Officer")),
        (("Orchard Lane: annual renewal", DealStage.CLOSED_WON, 48_000, 55, 20),
         ("Orchard Lane: analytics add-on", DealStage.NEGOTIATION, 12_500, 18, None)),
    ),
    (
        ("Stellar Freight", "stellarfreight.com", "Logistics", 2300, 410_000_000, "US"),
        (("Irene", "Volkova", "Head of Revenue Operations"),),
        (("Stellar Freight: 200 seats", DealStage.CLOSED_LOST, 86_000, 58, 12),),
    ),
    (
        ("Fjordline Maritime", "fjordline-maritime.no", "Logistics", 520, 140_000_000, "NO"),
        (("Henrik", "Solberg", "Chief Financial Officer"), ("Astrid", "Berg", "Sales Director")),
        (("Fjordline: pilot", DealStage.PROPOSAL, 18_000, 9, None),
         ("Fjordline: EU rollout", DealStage.QUALIFICATION, 64_000, 3, None)),
    ),
)
CONVERTED_DEAL_STAGES = (  # where the deals of converted leads stand now, best lead first
    DealStage.PROPOSAL, DealStage.NEGOTIATION, DealStage.QUALIFICATION, DealStage.PROPOSAL,
    DealStage.CLOSED_WON, DealStage.QUALIFICATION,
)
# fmt: on


@dataclass(frozen=True)
class Login:
    tenant: str
    username: str
    password: str
    role: str


@dataclass(frozen=True)
class DemoWorkspace:
    tenant: Tenant
    created: bool
    logins: tuple[Login, ...]
    form_key: str
    api_token: str
    counts: dict[str, int] = field(default_factory=dict)


def build_demo(*, now: dt.datetime | None = None) -> DemoWorkspace:
    """Create the demo and globex workspaces, or report the existing demo's logins unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if tenant is not None:
            return _describe(tenant, created=False, api_token=_fresh_admin_token(tenant))
        _check_usernames_free()
        rng = random.Random(SEED)
        people = rng.sample(list(product(FIRST_NAMES, LAST_NAMES)), DEMO_LEADS + OTHER_LEADS)

        setup = create_tenant(
            slug=DEMO_SLUG,
            name=DEMO_NAME,
            admin_username=DEMO_ADMIN.username,
            admin_password=DEMO_ADMIN.password,
            admin_email="alex@demo-sales.example",
        )
        _name(setup.admin, DEMO_ADMIN)
        team = [_create_user(setup.tenant, person) for person in DEMO_TEAM]
        leads = _seed_leads(
            tenant=setup.tenant, channel=setup.channel, owners=team, people=people[:DEMO_LEADS], rng=rng, now=now
        )
        _convert_best(leads, count=CONVERTED_LEADS, rng=rng, now=now)
        _seed_existing_customers(tenant=setup.tenant, owners=team, rng=rng, now=now)

        if not Tenant.objects.filter(slug=OTHER_SLUG).exists():
            other = create_tenant(
                slug=OTHER_SLUG,
                name=OTHER_NAME,
                admin_username=OTHER_ADMIN.username,
                admin_password=OTHER_ADMIN.password,
                admin_email="gloria@globex.example",
            )
            _name(other.admin, OTHER_ADMIN)
            _seed_leads(
                tenant=other.tenant,
                channel=other.channel,
                owners=[other.admin],
                people=people[DEMO_LEADS:],
                rng=rng,
                now=now,
            )
        return _describe(setup.tenant, created=True, api_token=setup.api_token)


def _check_usernames_free() -> None:
    wanted = [DEMO_ADMIN.username, *(p.username for p in DEMO_TEAM)]
    if not Tenant.objects.filter(slug=OTHER_SLUG).exists():
        wanted.append(OTHER_ADMIN.username)
    taken = sorted(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    if taken:
        raise TenantSetupError(
            f"User(s) {', '.join(taken)} already exist outside the demo workspace; "
            "seed into a fresh database (e.g. DATABASE_URL=sqlite:///var/demo.sqlite3) or rename them."
        )


def _create_user(tenant: Tenant, person: Person) -> User:
    user = User(
        username=person.username,
        email=f"{person.username}@demo-sales.example",
        first_name=person.first_name,
        last_name=person.last_name,
        tenant=tenant,
        role=person.role,
        is_staff=True,
    )
    validate_password(person.password, user=user)  # the printed passwords must work under the site's policy
    user.set_password(person.password)
    user.save()
    return user


def _name(user: User, person: Person) -> None:
    user.first_name, user.last_name = person.first_name, person.last_name
    user.save(update_fields=["first_name", "last_name"])


def _fresh_admin_token(tenant: Tenant) -> str:
    """A new token for the demo admin, revoking the ones earlier runs printed (tokens made in the admin stay)."""
    admin = User.objects.filter(tenant=tenant, username=DEMO_ADMIN.username, is_active=True).first()
    if admin is None:
        return ""
    for token in ApiToken.objects.filter(user=admin, name__in=[FIRST_TOKEN_NAME, DEMO_TOKEN_NAME]).usable():
        token_revoke(token=token, actor=None)
    return token_create(user=admin, name=DEMO_TOKEN_NAME)[1]


def _describe(tenant: Tenant, *, created: bool, api_token: str) -> DemoWorkspace:
    channel = Channel.objects.for_tenant(tenant).filter(name=WEBSITE_CHANNEL_NAME).first()
    existing = set(User.objects.filter(tenant__slug__in=[DEMO_SLUG, OTHER_SLUG]).values_list("username", flat=True))
    logins = tuple(
        Login(tenant=tenant_name, username=p.username, password=p.password, role=Role(p.role).label)
        for tenant_name, p in [
            *((DEMO_NAME, p) for p in (DEMO_ADMIN, *DEMO_TEAM)),
            (OTHER_NAME, OTHER_ADMIN),
        ]
        if p.username in existing
    )
    counts = {
        "leads": Lead.objects.for_tenant(tenant).count(),
        "contacts": Contact.objects.for_tenant(tenant).count(),
        "companies": Company.objects.for_tenant(tenant).count(),
        "deals": Deal.objects.for_tenant(tenant).count(),
        "activities": Activity.objects.for_tenant(tenant).count(),
    }
    return DemoWorkspace(
        tenant=tenant,
        created=created,
        logins=logins,
        form_key=channel.form_key if channel else "",
        api_token=api_token,
        counts=counts,
    )


# Leads -------------------------------------------------------------------------------------------


def _seed_leads(
    *,
    tenant: Tenant,
    channel: Channel,
    owners: list[User],
    people: list[tuple[str, str]],
    rng: random.Random,
    now: dt.datetime,
) -> list[Lead]:
    leads, activities, emails = [], [], set()
    for index, ((first, last), status) in enumerate(zip(people, _statuses(len(people), rng), strict=True)):
        lead = _new_lead(
            tenant=tenant, channel=channel, first=first, last=last, status=status, rng=rng, now=now, index=index
        )
        if lead.email in emails:  # two people shortened to the same mailbox: first.last is unique per person
            lead.email = f"{_ascii(first)}.{_ascii(last)}@{lead.email.partition('@')[2]}"
        emails.add(lead.email)
        if status != LeadStatus.NEW or rng.random() < 0.5:
            lead.owner = rng.choice(owners)
        timeline = _timeline(lead, rng=rng, now=now)
        lead.save()
        for activity in timeline:
            activity.lead = lead
        leads.append(lead)
        activities.extend(timeline)
    Activity.objects.bulk_create(activities)
    # The timelines went in around the services, which keep each lead's first contact time: set it from them.
    first_contacts_from_timeline(Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    rescore_leads(tenant=tenant)  # the default rules, as for every workspace
    scored = Lead.objects.in_bulk([lead.pk for lead in leads])
    leads = [scored[lead.pk] for lead in leads]
    _predict(leads, rng=rng)
    return leads


def _statuses(count: int, rng: random.Random) -> list[LeadStatus]:
    """Mostly open statuses, about a tenth disqualified (at least one)."""
    disqualified = max(1, count // 10)
    contacted = qualified = round(count * 0.275)
    new = count - disqualified - contacted - qualified
    statuses = (
        [LeadStatus.NEW] * new
        + [LeadStatus.CONTACTED] * contacted
        + [LeadStatus.QUALIFIED] * qualified
        + [LeadStatus.DISQUALIFIED] * disqualified
    )
    rng.shuffle(statuses)
    return statuses


def _new_lead(
    *,
    tenant: Tenant,
    channel: Channel,
    first: str,
    last: str,
    status: str,
    rng: random.Random,
    now: dt.datetime,
    index: int,
) -> Lead:
    company, domain, industry, employees, revenue, country = rng.choice(COMPANIES)
    title = rng.choice(TITLES)
    source = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
    lead = Lead(
        tenant=tenant,
        first_name=first,
        last_name=last,
        email=_email(first, last, domain, rng),
        phone=_phone(country, index) if rng.random() < 0.8 else "",
        job_title=title,
        company=company,
        industry=industry,
        employee_count=employees,
        annual_revenue=Decimal(revenue),
        website=f"https://www.{domain}" if rng.random() < 0.5 else "",
        country=country,
        message=rng.choice(MESSAGES),
        source=source,
        status=status,
        created_at=now - dt.timedelta(days=rng.uniform(0.2, 60)),
    )
    _set_origin(lead, channel=channel, rng=rng, index=index)
    if status == LeadStatus.DISQUALIFIED:
        lead.disqualification_reason = rng.choice(DISQUALIFY_REASONS)
    return lead


def _email(first: str, last: str, domain: str, rng: random.Random) -> str:
    first, last = _ascii(first), _ascii(last)
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}"])
    return f"{local}@{domain}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _phone(country: str, index: int) -> str:
    return normalize_phone(PHONE_PATTERNS[country].format(index % 100), country)


def _set_origin(lead: Lead, *, channel: Channel, rng: random.Random, index: int) -> None:
    """Where the lead came from: channel, campaign, landing page, UTM tags, platform id."""
    if lead.source == LeadSource.WEBSITE_FORM:
        lead.channel = channel
        lead.source_url = f"https://www.demo-sales.example{rng.choice(LANDING_PAGES)}"
        lead.utm_source, lead.utm_medium, lead.utm_campaign, lead.campaign = rng.choice(WEB_TRAFFIC)
        if lead.utm_source == "google":
            lead.utm_term = rng.choice(["lead management software", "lead scoring tool", "crm for small sales teams"])
    elif lead.source == LeadSource.FACEBOOK_LEAD_AD:
        lead.campaign, lead.utm_source, lead.utm_medium, lead.utm_campaign = (
            "Spring trial push",
            "facebook",
            "paid_social",
            "spring-trial-push",
        )
        lead.utm_content = rng.choice(["carousel-a", "video-15s"])
        lead.external_id = f"fb-{1_000_000_000_000 + index * 7919}"
    elif lead.source == LeadSource.GOOGLE_LEAD_FORM:
        lead.campaign, lead.utm_source, lead.utm_medium, lead.utm_campaign = (
            "Search: lead routing",
            "google",
            "cpc",
            "search-lead-routing",
        )
        lead.external_id = f"gclf-{index:04d}-{rng.randrange(16**8):08x}"
    elif lead.source == LeadSource.REFERRAL:
        lead.campaign = "Partner referral program"
        lead.referrer = "https://partners.demo-sales.example/referrals"
    elif lead.source == LeadSource.IMPORT:
        lead.campaign = "SaaStr Annual booth scans"
    elif lead.source == LeadSource.API:
        lead.campaign = "Product sign-up"
        lead.source_url = "https://app.demo-sales.example/signup"


def _timeline(lead: Lead, *, rng: random.Random, now: dt.datetime) -> list[Activity]:
    """The lead's history, oldest first; sets assigned_at, qualified_at and last_activity_at to match."""
    owner = lead.owner
    steps: list[dict] = [_arrival(lead)]
    if owner is not None:
        steps.append(
            {
                "kind": ActivityKind.ASSIGNED,
                "subject": f"Assigned to {owner.get_full_name()}",
                "data": {"owner_id": owner.pk},
                "marks": "assigned_at",
            }
        )
    for _ in range(rng.randint(0, 2) + (2 if lead.status == LeadStatus.QUALIFIED else 0)):
        page = rng.choice(LANDING_PAGES)
        steps.append(
            rng.choice(
                [
                    {"kind": ActivityKind.PAGE_VIEWED, "subject": f"Viewed {page}", "data": {"url": page}},
                    {"kind": ActivityKind.EMAIL_OPENED, "subject": "Opened: Getting started with lead routing"},
                    {"kind": ActivityKind.EMAIL_CLICKED, "subject": "Clicked: Book a demo", "data": {"url": "/demo"}},
                ]
            )
        )
    if lead.status != LeadStatus.NEW:
        steps.append(_status_step(LeadStatus.NEW, LeadStatus.CONTACTED, owner))
        steps.append(
            {
                "kind": ActivityKind.CALL,
                "subject": "Intro call",
                "body": rng.choice(CALL_NOTES),
                "actor": owner,
                "data": {"duration_minutes": rng.randint(3, 35)},
            }
        )
        steps.append(
            {
                "kind": ActivityKind.EMAIL,
                "subject": "Following up on our call",
                "body": "Thanks for your time today; the overview and pricing are attached.",
                "actor": owner,
            }
        )
    if lead.status == LeadStatus.QUALIFIED:
        steps.append({"kind": ActivityKind.DEMO_REQUESTED, "subject": "Requested a product demo"})
        steps.append(
            {
                "kind": ActivityKind.MEETING,
                "subject": "Discovery meeting",
                "actor": owner,
                "body": "Confirmed budget, timeline this quarter, and the buying committee.",
            }
        )
        steps.append({**_status_step(LeadStatus.CONTACTED, LeadStatus.QUALIFIED, owner), "marks": "qualified_at"})
    if lead.status == LeadStatus.DISQUALIFIED:
        steps.append(
            {**_status_step(LeadStatus.CONTACTED, LeadStatus.DISQUALIFIED, owner), "body": lead.disqualification_reason}
        )
    if owner is not None and lead.is_open and rng.random() < 0.4:
        steps.append(
            {
                "kind": ActivityKind.NOTE,
                "subject": "Note",
                "actor": owner,
                "body": rng.choice(
                    [
                        "Prefers email over phone.",
                        "Champion is the VP; CFO signs.",
                        "Asked about SSO and data residency in the EU.",
                    ]
                ),
            }
        )

    times = sorted(lead.created_at + (now - lead.created_at) * rng.uniform(0.02, 0.95) for _ in steps[1:])
    activities = []
    for step, when in zip(steps, [lead.created_at, *times], strict=True):
        if step.get("marks"):
            setattr(lead, step["marks"], when)
        activities.append(
            timeline.activity(
                tenant=lead.tenant,
                kind=step["kind"],
                subject=step.get("subject", ""),
                body=step.get("body", ""),
                actor=step.get("actor"),
                occurred_at=when,
                data=step.get("data", {}),
            )
        )
    if owner is not None and lead.is_open:
        activities.append(_task(lead, created_at=activities[-1].occurred_at, rng=rng, now=now))
    lead.last_activity_at = activities[-1].occurred_at
    return activities


def _arrival(lead: Lead) -> dict:
    if lead.source in (LeadSource.WEBSITE_FORM, LeadSource.FACEBOOK_LEAD_AD, LeadSource.GOOGLE_LEAD_FORM):
        form = "Website" if lead.source == LeadSource.WEBSITE_FORM else lead.get_source_display()
        return {"kind": ActivityKind.FORM_SUBMITTED, "subject": f"Submitted {form}", "body": lead.message}
    if lead.source == LeadSource.IMPORT:
        return {"kind": ActivityKind.IMPORTED, "subject": f"Imported from {lead.campaign}"}
    if lead.source == LeadSource.CHAT:
        return {
            "kind": ActivityKind.NOTE,
            "subject": "Chat conversation",
            "body": lead.message or "Visitor asked about pricing and left their details.",
        }
    if lead.source == LeadSource.REFERRAL:
        return {"kind": ActivityKind.NOTE, "subject": "Referred by a partner", "body": lead.message}
    return {
        "kind": ActivityKind.CREATED,
        "subject": "Lead received via API" if lead.source == LeadSource.API else "Entered by hand",
    }


def _status_step(old: str, new: str, actor: User | None) -> dict:
    return {
        "kind": ActivityKind.STATUS_CHANGED,
        "subject": f"Status: {LeadStatus(old).label} → {LeadStatus(new).label}",
        "actor": actor,
        "data": {"from": old, "to": new},
    }


def _task(lead: Lead, *, created_at: dt.datetime, rng: random.Random, now: dt.datetime) -> Activity:
    """An open follow-up for the owner, due soon or already overdue."""
    due = max(
        now + dt.timedelta(days=rng.choice([-2, 1, 2, 3, 5]), hours=rng.randint(0, 8)),
        created_at + dt.timedelta(hours=4),
    )
    return timeline.activity(
        tenant=lead.tenant,
        kind=ActivityKind.TASK,
        subject=rng.choice(TASKS),
        actor=lead.owner,
        occurred_at=created_at,
        due_at=due,
    )


def _predict(leads: list[Lead], *, rng: random.Random) -> None:
    """A plausible prediction for each lead, from its real score: probability, advice, priority."""
    for lead in leads:
        lead.probability = round(min(0.97, max(0.02, lead.score_total / 100 * 0.9 + rng.uniform(-0.06, 0.06))), 2)
        if lead.status == LeadStatus.DISQUALIFIED or lead.probability < 0.3:
            lead.recommendation = Recommendation.DROP_LEAD
        elif lead.probability >= 0.6:
            lead.recommendation = Recommendation.TRANSFER_TO_SALES
        else:
            lead.recommendation = Recommendation.CONTINUE_QUALIFICATION
        top = max(lead.score_factors, key=lambda factor: factor["points"], default=None)
        signal = f"strongest signal: {top['name'].lower()}" if top else "no scoring rule matched"
        lead.recommendation_reason = f"Score {lead.score_total} ({lead.score_band}); {signal}."
        priority: dict[str, Priority] = {ScoreBand.HOT: Priority.HIGH, ScoreBand.COLD: Priority.LOW}
        lead.priority = priority.get(lead.score_band, Priority.MEDIUM)
    Lead.objects.bulk_update(leads, ["probability", "recommendation", "recommendation_reason", "priority"])


# Contacts, companies, deals ----------------------------------------------------------------------


def _convert_best(leads: list[Lead], *, count: int, rng: random.Random, now: dt.datetime) -> None:
    """Hand the best qualified leads to sales through the real conversion, then move their deals along."""
    qualified = sorted((x for x in leads if x.status == LeadStatus.QUALIFIED), key=lambda x: -x.score_total)
    for lead, stage in zip(qualified[:count], CONVERTED_DEAL_STAGES, strict=False):
        result = Lead.objects.convert(
            lead=lead,
            actor=lead.owner,
            deal_name=f"{lead.company}: {rng.choice(['team plan', 'pilot', 'enterprise'])}",
            amount=Decimal(rng.randrange(6_000, 90_000, 500)),
        )
        assert result.deal_id is not None  # convert() makes a deal unless told not to
        deal = Deal.objects.get(pk=result.deal_id)
        _move_deal(deal, stage=stage, closed_at=now if stage in CLOSED_STAGES else None, now=now, rng=rng)


def _move_deal(deal: Deal, *, stage: str, closed_at: dt.datetime | None, now: dt.datetime, rng: random.Random) -> None:
    deal.stage = stage
    deal.closed_at = closed_at
    deal.expected_close_date = None if closed_at else (now + dt.timedelta(days=rng.randint(10, 75))).date()
    deal.save(update_fields=["stage", "closed_at", "expected_close_date", "updated_at"])


def _seed_existing_customers(*, tenant: Tenant, owners: list[User], rng: random.Random, now: dt.datetime) -> None:
    """Accounts that predate the leads, so the deal pipeline shows every stage."""
    for (name, domain, industry, employees, revenue, country), people, deals in EXISTING_CUSTOMERS:
        owner = rng.choice(owners)
        company = Company.objects.create(
            tenant=tenant,
            name=name,
            domain=domain,
            website=f"https://www.{domain}",
            industry=industry,
            employee_count=employees,
            annual_revenue=Decimal(revenue),
            country=country,
            owner=owner,
            created_at=now - dt.timedelta(days=90),
        )
        contacts = [
            Contact.objects.create(
                tenant=tenant,
                first_name=first,
                last_name=last,
                email=f"{_ascii(first)}.{_ascii(last)}@{domain}",
                phone=_phone(country, 50 + i),
                job_title=title,
                company=company,
                owner=owner,
                created_at=now - dt.timedelta(days=90),
            )
            for i, (first, last, title) in enumerate(people)
        ]
        for deal_name, stage, amount, age_days, closed_days_ago in deals:
            deal = Deal.objects.create(
                tenant=tenant,
                name=deal_name,
                stage=DealStage.QUALIFICATION,
                amount=Decimal(amount),
                owner=owner,
                contact=contacts[0],
                company=company,
                created_at=now - dt.timedelta(days=age_days),
            )
            closed_at = now - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
            _move_deal(deal, stage=stage, closed_at=closed_at, now=now, rng=rng)
            _deal_history(deal, owner=owner, now=now, age_days=age_days)


def _deal_history(deal: Deal, *, owner: User, now: dt.datetime, age_days: int) -> None:
    start = now - dt.timedelta(days=age_days)
    entries = [(ActivityKind.MEETING, "Kick-off meeting", "Walked through requirements and success criteria.", start)]
    if deal.stage != DealStage.QUALIFICATION:
        entries.append(
            (
                ActivityKind.EMAIL,
                "Proposal sent",
                f"Proposal for {deal.amount} {deal.currency}.",
                start + (now - start) / 3,
            )
        )
    if deal.stage == DealStage.CLOSED_WON:
        assert deal.closed_at is not None  # _move_deal closed it
        entries.append((ActivityKind.NOTE, "Closed won", "Signed; onboarding scheduled.", deal.closed_at))
    elif deal.stage == DealStage.CLOSED_LOST:
        assert deal.closed_at is not None
        entries.append((ActivityKind.NOTE, "Closed lost", "Lost to the incumbent on price.", deal.closed_at))
    Activity.objects.bulk_create(
        timeline.activity(
            tenant=deal.tenant,
            contact=deal.contact,
            deal=deal,
            kind=kind,
            subject=subject,
            body=body,
            actor=owner,
            occurred_at=when,
        )
        for kind, subject, body, when in entries
    )
