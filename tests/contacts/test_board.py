"""The deals pipeline board in the admin: columns with counts, totals and forecasts, filters, and moving a
card (the same request whether dragged or moved with the keyboard) through the one stage service."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from contacts.board import build_board, format_money
from contacts.models import Contact, Deal
from crm.choices import ActivityKind
from crm.models import Activity
from tests.factories import ContactFactory, DealFactory


@pytest.fixture
def pipeline(tenant, rep, manager):
    carla = ContactFactory(tenant=tenant, first_name="Carla", last_name="Buyer", email="carla@acme.example")
    deals = {
        "pilot": DealFactory(tenant=tenant, name="Pilot", stage="qualification", amount=Decimal("10000"), owner=rep,
                             expected_close_date=dt.date(2026, 3, 14), contact=carla),
        "rollout": DealFactory(tenant=tenant, name="Rollout", stage="qualification", amount=Decimal("22500"),
                               owner=manager, expected_close_date=dt.date(2026, 4, 2)),
        "euro": DealFactory(tenant=tenant, name="Euro deal", stage="proposal", amount=Decimal("1200"), currency="EUR",
                            expected_close_date=dt.date(2026, 3, 30)),
        "big": DealFactory(tenant=tenant, name="Big one", stage="negotiation", amount=Decimal("100000"), owner=manager),
    }
    return deals


def _column(board, stage):
    return next(column for column in board.columns if column.stage == stage)


def test_money_reads_with_its_currency():
    assert format_money(Decimal("22500"), "USD") == "$22,500.00"
    assert format_money(Decimal("1200.5"), "EUR") == "€1,200.50"
    assert format_money(Decimal("900"), "CHF") == "CHF 900.00"
    assert format_money(None, "USD") == "–"


def test_each_column_counts_totals_and_weighs_its_deals(rep, pipeline, other_tenant):
    DealFactory(tenant=other_tenant, name="Not ours", stage="qualification", amount=Decimal("5"))

    board = build_board(user=rep)

    qualification = _column(board, "qualification")
    assert qualification.count == 2
    assert [str(m) for m in qualification.totals] == ["$32,500.00"]
    assert [str(m) for m in qualification.forecast] == ["$6,500.00"]  # 20 %
    assert [str(m) for m in _column(board, "proposal").forecast] == ["€600.00"]  # 50 %, in euros
    assert [str(m) for m in _column(board, "negotiation").forecast] == ["$75,000.00"]
    assert _column(board, "closed_won").count == 0
    assert [str(m) for m in board.forecast] == ["€600.00", "$81,500.00"]
    # A rep sees the whole workspace's deals (crm.access), and may move only theirs and nobody's.
    movable = {card.deal.name: card.movable for column in board.columns for card in column.cards}
    assert movable == {"Pilot": True, "Rollout": False, "Euro deal": True, "Big one": False}


def test_the_board_filters_by_owner_and_close_month(rep, manager, pipeline):
    assert [c.deal.name for c in _column(build_board(user=rep, owner_id=manager.pk), "qualification").cards] == [
        "Rollout"
    ]
    assert build_board(user=rep, unowned=True).count == 1
    march = build_board(user=rep, close_month=dt.date(2026, 3, 1))
    assert sorted(c.deal.name for col in march.columns for c in col.cards) == ["Euro deal", "Pilot"]


def test_the_board_page_shows_columns_money_and_move_forms(client, rep, pipeline):
    client.force_login(rep)

    response = client.get("/admin/contacts/deal/board/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Deals pipeline" in html
    for label in ("Qualification", "Proposal", "Negotiation", "Closed won", "Closed lost"):
        assert label in html
    assert "$32,500.00" in html and "€1,200.00" in html and "$75,000.00" in html
    assert "32500.00" not in html
    pilot, rollout = pipeline["pilot"], pipeline["rollout"]
    assert f'action="/admin/contacts/deal/{pilot.pk}/move/"' in html
    assert f'action="/admin/contacts/deal/{rollout.pk}/move/"' not in html  # a colleague's deal: no move form
    assert f'<label class="visually-hidden" for="move-{pilot.pk}">Move Pilot to</label>' in html
    assert f"/admin/contacts/deal/{pilot.pk}/change/" in html  # the deal page, with its timeline


def test_the_board_page_filters_and_names_a_bad_month(client, rep, manager, pipeline):
    client.force_login(rep)

    html = client.get(f"/admin/contacts/deal/board/?owner={manager.pk}").content.decode()
    assert "Rollout" in html and "Pilot" not in html

    bad = client.get("/admin/contacts/deal/board/?month=March")
    assert bad.status_code == 400
    assert "Enter a month as YYYY-MM" in bad.content.decode()


def test_moving_a_card_goes_through_the_stage_service(client, rep, pipeline):
    pilot = pipeline["pilot"]
    client.force_login(rep)

    response = client.post(f"/admin/contacts/deal/{pilot.pk}/move/",
                           {"stage": "closed_won", "next": "/admin/contacts/deal/board/?owner="})

    assert response.status_code == 302 and response["Location"] == "/admin/contacts/deal/board/?owner="
    pilot.refresh_from_db()
    assert pilot.stage == "closed_won" and pilot.closed_at is not None
    assert Contact.objects.get(pk=pilot.contact_id).status == "customer"  # a won deal's contact is a customer
    moved = Activity.objects.get(deal=pilot, kind=ActivityKind.STATUS_CHANGED, subject__startswith="Stage")
    assert moved.subject == "Stage: Qualification → Closed won" and moved.actor == rep
    page = client.get(response["Location"]).content.decode()
    assert "Pilot moved to Closed won." in page


def test_a_rep_cannot_move_a_colleagues_deal(client, rep, pipeline):
    rollout = pipeline["rollout"]
    client.force_login(rep)

    response = client.post(f"/admin/contacts/deal/{rollout.pk}/move/", {"stage": "proposal"}, follow=True)

    assert Deal.objects.get(pk=rollout.pk).stage == "qualification"
    assert re.search(r"Rollout was not moved: Reps change their own and unassigned deals only", response.content.decode())


def test_an_unknown_stage_is_named_and_changes_nothing(client, rep, pipeline):
    pilot = pipeline["pilot"]
    client.force_login(rep)

    response = client.post(f"/admin/contacts/deal/{pilot.pk}/move/", {"stage": "won-ish"}, follow=True)

    assert Deal.objects.get(pk=pilot.pk).stage == "qualification"
    assert "Pilot was not moved: Pick one of the stages." in response.content.decode()


def test_another_workspaces_deal_is_not_found(client, rep, other_tenant):
    theirs = DealFactory(tenant=other_tenant, name="Theirs")
    client.force_login(rep)

    assert client.post(f"/admin/contacts/deal/{theirs.pk}/move/", {"stage": "proposal"}).status_code == 404
    assert "Theirs" not in client.get("/admin/contacts/deal/board/").content.decode()


def test_the_deal_list_links_to_the_board(client, rep):
    client.force_login(rep)
    assert "/admin/contacts/deal/board/" in client.get("/admin/contacts/deal/").content.decode()
