"""The deals pipeline board: the deals a user sees, one column per stage, with each column's count,
total amount and weighted forecast (amount × the stage's probability, contacts.choices.STAGE_PROBABILITY).

Read-only: moving a card goes through contacts.deals.change_stage like every other door. Amounts in
different currencies are never added together: a column totals each currency apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Sum

from crm.access import can_change, visible

from .choices import STAGE_PROBABILITY, DealStage
from .models import Deal

if TYPE_CHECKING:
    from crm.models import User

CARDS_PER_COLUMN = 200  # a column lists this many deals (biggest first); its figures count every one
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def format_money(amount: Decimal | None, currency: str) -> str:
    """An amount as people read it: "$22,500.00", "€1,200.00", "CHF 900.00"; "–" for none."""
    if amount is None:
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.2f}"
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


@dataclass
class Money:
    currency: str
    amount: Decimal

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


@dataclass
class Card:
    deal: Deal
    movable: bool  # whether the viewer may move it (crm.access)

    @property
    def amount(self) -> str:
        return format_money(self.deal.amount, self.deal.currency)


@dataclass
class Column:
    stage: str
    label: str
    probability: int
    count: int = 0
    totals: list[Money] = field(default_factory=list)
    forecast: list[Money] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class Board:
    columns: list[Column]

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def forecast(self) -> list[Money]:
        """The weighted forecast of the open stages (won deals are no longer a forecast)."""
        return _sum_by_currency(m for c in self.columns if c.stage in OPEN_STAGES for m in c.forecast)


OPEN_STAGES = (DealStage.QUALIFICATION, DealStage.PROPOSAL, DealStage.NEGOTIATION)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of `month` and the first day of the next."""
    first = month.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def board_deals(*, user: User, owner_id: int | None = None, unowned: bool = False, close_month: dt.date | None = None):
    """The deals the board shows `user`, filtered by owner (or none) and expected close month."""
    deals = visible(user, Deal.objects.all())
    if unowned:
        deals = deals.filter(owner__isnull=True)
    elif owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    if close_month is not None:
        first, after = month_bounds(close_month)
        deals = deals.filter(expected_close_date__gte=first, expected_close_date__lt=after)
    return deals


def build_board(
    *, user: User, owner_id: int | None = None, unowned: bool = False, close_month: dt.date | None = None
) -> Board:
    """Every stage's column for the deals `user` sees (crm.access), filtered as asked."""
    deals = board_deals(user=user, owner_id=owner_id, unowned=unowned, close_month=close_month)
    columns = {
        stage.value: Column(stage=stage.value, label=stage.label, probability=STAGE_PROBABILITY[stage])
        for stage in DealStage
    }
    for row in deals.order_by().values("stage", "currency").annotate(n=Count("pk"), total=Sum("amount")):
        column = columns[row["stage"]]
        column.count += row["n"]
        if row["total"] is not None:
            total = Decimal(row["total"])
            column.totals.append(Money(row["currency"], total))
            column.forecast.append(Money(row["currency"], (total * column.probability / 100).quantize(Decimal("0.01"))))
    for column in columns.values():
        column.totals.sort(key=lambda money: money.currency)
        column.forecast.sort(key=lambda money: money.currency)
        if column.count:
            rows = (
                deals.filter(stage=column.stage)
                .select_related("contact", "company", "owner")
                .order_by("expected_close_date", "-amount", "-id")[:CARDS_PER_COLUMN]
            )
            column.cards = [Card(deal=deal, movable=can_change(user, deal)) for deal in rows]
    return Board(columns=list(columns.values()))


def _sum_by_currency(amounts) -> list[Money]:
    sums: dict[str, Decimal] = {}
    for money in amounts:
        sums[money.currency] = sums.get(money.currency, Decimal(0)) + money.amount
    return [Money(currency, amount) for currency, amount in sorted(sums.items())]
