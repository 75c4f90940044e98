"""A session's payments, as oTree's Payments tab shows them: each participant's payoff in
points and in money, the participation fee and the total to pay; and the session's sums.
One read; no HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from server.currency import Currency, RealWorldCurrency
from server.db import Database
from server.errors import ConfigurationError
from server.session_admin import AdminSessionRow, admin_row
from server.sessions import get_session


@dataclass(frozen=True)
class PaymentRow:
    """One participant's payment; amounts are printed as the project prints them
    (USE_POINTS, REAL_WORLD_CURRENCY_CODE, LANGUAGE_CODE)."""

    id_in_session: int
    label: str | None
    code: str
    finished: bool
    payoff: str
    payoff_in_money: str
    participation_fee: str
    total: str


@dataclass(frozen=True)
class SessionPayments:
    """Every participant's payment, and the sums; ``problem`` says why amounts cannot be
    computed (a session stored before config values were checked, with a fee that is no
    number), and then the rows and sums are empty."""

    session: AdminSessionRow
    rows: list[PaymentRow]
    participation_fee: str
    real_world_currency_per_point: str
    total_payoffs: str
    total_to_pay: str
    mean_to_pay: str
    problem: str | None = None


def session_payments(database: Database, code: str) -> SessionPayments:
    """What the Payments tab shows for session ``code`` (with the header of its tabs), in one
    read. Raises SessionNotFound."""
    with database.read() as db:
        session = get_session(db, code)
        try:
            fee = session.participation_fee
            rate = session.real_world_currency_per_point
        except ConfigurationError as exc:
            return SessionPayments(admin_row(session), [], "", "", "", "", "", problem=str(exc))
        rows = []
        payoffs = 0.0
        totals = 0.0
        for participant in session.get_participants():
            money = participant.payoff_in_real_world_currency()
            total = participant.payoff_plus_participation_fee()
            payoffs += float(money)
            totals += float(total)
            rows.append(
                PaymentRow(
                    id_in_session=participant.id_in_session,
                    label=participant.label,
                    code=participant.code,
                    finished=participant.finished,
                    payoff=str(Currency(participant.payoff)),
                    payoff_in_money=str(money),
                    participation_fee=str(fee),
                    total=str(total),
                )
            )
        count = len(rows)
        return SessionPayments(
            session=admin_row(session),
            rows=rows,
            participation_fee=str(fee),
            real_world_currency_per_point=f"{rate:g}",
            total_payoffs=str(RealWorldCurrency(payoffs)),
            total_to_pay=str(RealWorldCurrency(totals)),
            mean_to_pay=str(RealWorldCurrency(totals / count if count else 0)),
        )
