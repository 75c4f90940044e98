"""The admin's actions on participants (server/participant_actions.py) and dropouts moved on
by the timeout sweep (server/dropouts.py), on the sample prisoner's dilemma (4 participants,
pairs, 3 rounds of Decision, ResultsWaitPage, Results; then payment_info's one page).

The rules come from the admin API's issue: advance submits a page as its timeout would and
counts a wait page as an arrival; revert goes one page back within one app and round and
never across a wait page whose after_all_players_arrive has run; end finishes; a dropout's
pages are submitted at once (oTree's documented dropout recipe, multiplayer_waitpages.rst)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from server import participant_actions as actions
from server import timeouts
from server.data_export.scope import resolve_scope
from server.data_export.tables import all_apps_wide
from server.errors import InvalidArguments, ParticipantNotFound, SessionNotFound
from server.models.core import (
    Participant,
    WaitPageArrival,
    WaitPageCompletion,
    check_declared_fields,
)
from server.session_monitor import session_monitor
from server.session_reports import create_session_now


@pytest.fixture
def grove(app: Any) -> Any:
    return app.state.grove


def _prisoner(grove: Any) -> tuple[str, list[str]]:
    summary = create_session_now(grove.db, grove.project, "prisoner", 4)
    with grove.db.read() as db:
        codes = list(
            db.scalars(
                sa.select(Participant.code)
                .join(Participant.session)
                .where(Participant.session.has(code=summary.code))
                .order_by(Participant.id_in_session)
            )
        )
    return summary.code, codes


def _where(grove: Any, code: str) -> tuple[str | None, int | None, bool, bool]:
    with grove.db.read() as db:
        p = db.scalars(sa.select(Participant).where(Participant.code == code)).one()
        return p.current_page_name, p.current_round, p.finished, p.is_dropout


def test_advance_moves_through_pages_and_wait_pages_and_reports_each(grove):
    session, codes = _prisoner(grove)
    report = actions.advance(grove.db, grove.project, session, [*codes, "nobody"], who="test")
    assert report.applied == codes
    assert report.positions == dict.fromkeys(codes, "Decision")
    assert [(s.uname, s.reason) for s in report.skipped] == [
        ("nobody", "no participant with this code or label here")
    ]
    actions.advance(
        grove.db, grove.project, session, codes, who="test"
    )  # Decision submitted by "timeout"
    # The first of each pair waits; the second completes the pair and moves the first on
    # with it (flow._move_on_the_waiting).
    assert [_where(grove, c)[0] for c in codes] == ["Results"] * 4
    report = actions.advance(grove.db, grove.project, session, codes, who="test")
    assert report.positions == dict.fromkeys(codes, "Decision")  # round 2


def test_revert_goes_back_one_page_within_the_round_and_forgets_a_lone_arrival(grove):
    session, codes = _prisoner(grove)
    actions.advance(grove.db, grove.project, session, codes, who="test")  # all on Decision
    first_page = actions.revert(grove.db, grove.project, session, codes[:1], who="test")
    assert first_page.applied == []
    assert "first page of prisoner round 1" in first_page.skipped[0].reason

    # P1 waits alone at ResultsWaitPage (its partner is still on Decision): back to Decision.
    with grove.db.read() as db:
        partner = _partner(db, grove, codes[0])
    actions.advance(grove.db, grove.project, session, [codes[0]], who="test")
    assert _where(grove, codes[0])[0] == "ResultsWaitPage"
    back = actions.revert(grove.db, grove.project, session, [codes[0]], who="test")
    assert back.applied == [codes[0]]
    assert back.positions == {codes[0]: "Decision"}
    with grove.db.read() as db:
        arrivals = db.scalar(sa.select(sa.func.count(WaitPageArrival.id)))
    assert arrivals == 0  # the partner's arrival alone must not let the pair through
    actions.advance(grove.db, grove.project, session, [partner], who="test")
    assert _where(grove, partner)[0] == "ResultsWaitPage"


def _partner(db: Any, grove: Any, code: str) -> str:
    player_cls = grove.project.apps["prisoner"].player_cls
    participant = db.scalars(sa.select(Participant).where(Participant.code == code)).one()
    player = db.scalars(
        sa.select(player_cls).where(
            player_cls.participant_id == participant.id, player_cls.round_number == 1
        )
    ).one()
    return player.get_others_in_group()[0].participant.code


def test_revert_never_crosses_a_wait_page_that_let_the_group_through(grove):
    session, codes = _prisoner(grove)
    for _page in range(3):  # Decision; the wait page (twice for the first of each pair)
        behind = [c for c in codes if _where(grove, c)[0] != "Results"]
        if behind:
            actions.advance(grove.db, grove.project, session, behind, who="test")
    assert {_where(grove, c)[0] for c in codes} == {"Results"}
    refused = actions.revert(grove.db, grove.project, session, codes, who="test")
    assert refused.applied == []
    assert all("after_all_players_arrive has run" in s.reason for s in refused.skipped)
    assert {_where(grove, c)[0] for c in codes} == {"Results"}


def test_end_finishes_and_skips_the_finished(grove):
    session, codes = _prisoner(grove)
    report = actions.end(grove.db, grove.project, session, [codes[0]], who="test")
    assert report.applied == [codes[0]]
    assert report.positions == {codes[0]: "finished"}
    assert _where(grove, codes[0])[2] is True
    again = actions.end(grove.db, grove.project, session, [codes[0]], who="test")
    assert [(s.uname, s.reason) for s in again.skipped] == [(codes[0], "already finished")]


def test_unames_may_be_labels_and_are_checked(grove):
    session, codes = _prisoner(grove)
    with grove.db.transaction() as db:
        db.execute(sa.update(Participant).where(Participant.code == codes[1]).values(label="bob"))
    report = actions.end(grove.db, grove.project, session, ["bob", codes[1]], who="test")
    assert report.applied == [codes[1]]  # one participant, named twice
    with pytest.raises(InvalidArguments):
        actions.end(grove.db, grove.project, session, [], who="test")
    with pytest.raises(SessionNotFound):
        actions.end(grove.db, grove.project, "nosuchsession", codes, who="test")
    _other, other_codes = _prisoner(grove)
    with pytest.raises(ParticipantNotFound):  # a participant of another session is nobody here
        actions.end(grove.db, grove.project, session, other_codes[:1], who="test")
    assert _where(grove, other_codes[0])[2] is False


def test_a_dropout_plays_on_by_timeouts_and_never_holds_up_the_group(grove):
    session, codes = _prisoner(grove)
    marked = actions.mark_dropouts(grove.db, grove.project, session, [codes[0]], who="test")
    assert marked.applied == [codes[0]]
    rows = session_monitor(grove.db, grove.project, session).as_json()["participants"]
    assert [row["is_dropout"] for row in rows] == [True, False, False, False]
    again = actions.mark_dropouts(grove.db, grove.project, session, [codes[0]], who="test")
    assert again.skipped[0].reason == "already marked as a dropout"
    timeouts.move_dropouts(grove.db, grove.project)
    # Started, Decision submitted by timeout, then held at the wait page by the partner.
    assert _where(grove, codes[0])[:2] == ("ResultsWaitPage", 1)
    with grove.db.read() as db:
        partner = _partner(db, grove, codes[0])
    actions.advance(grove.db, grove.project, session, [partner], who="test")
    actions.advance(
        grove.db, grove.project, session, [partner], who="test"
    )  # arrives: the pair is complete
    assert _where(grove, partner)[0] == "Results"
    timeouts.move_dropouts(grove.db, grove.project)
    # Round 1's Results, then round 2: the dropout waits for its new partner.
    page, round_number, finished, is_dropout = _where(grove, codes[0])
    assert (page, round_number, finished, is_dropout) == ("ResultsWaitPage", 2, False, True)
    # Everyone else drops out too: all play to the end on their own.
    actions.mark_dropouts(grove.db, grove.project, session, codes[1:], who="test")
    for _sweep in range(10):
        timeouts.move_dropouts(grove.db, grove.project)
    assert all(_where(grove, c)[2] for c in codes)
    with grove.db.read() as db:
        table = all_apps_wide(db, grove.project, resolve_scope(db, session, None))
        header, data = table.columns, list(table.rows)
    assert header[-1] == "participant.is_dropout"
    assert [row[-1] for row in data] == [True, True, True, True]
    assert "prisoner.3.player.payoff" in header  # the wait pages' payoffs ran


def test_is_dropout_may_be_declared_as_otrees_recipe_does():
    check_declared_fields(["is_dropout", "finished"], [])
    with pytest.raises(ValueError, match="reserved"):
        check_declared_fields(["is_bot_x", "code"], [])


def test_a_revert_racing_the_partners_arrival_never_leaves_a_group_let_through_without_them(
    grove,
):
    """The revert locks the group as the arrival does (LOCK ORDER), so either P1 goes back and
    the partner waits, or the pair is complete and the revert is refused; run on the suite's
    database (PostgreSQL in its pass)."""
    for _trial in range(4):
        _race_revert_and_arrival(grove)


def _race_revert_and_arrival(grove: Any) -> None:
    session, codes = _prisoner(grove)
    actions.advance(grove.db, grove.project, session, codes, who="test")
    actions.advance(grove.db, grove.project, session, [codes[0]], who="test")  # P1 waits alone
    with grove.db.read() as db:
        partner = _partner(db, grove, codes[0])
    ready = threading.Barrier(2)
    results: dict[str, Any] = {}

    def revert_first() -> None:
        ready.wait()
        results["revert"] = actions.revert(grove.db, grove.project, session, [codes[0]], who="test")

    def partner_arrives() -> None:
        ready.wait()
        results["arrive"] = actions.advance(grove.db, grove.project, session, [partner], who="test")

    threads = [threading.Thread(target=revert_first), threading.Thread(target=partner_arrives)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["arrive"].applied == [partner]
    with grove.db.read() as db:
        completed = db.scalar(
            sa.select(sa.func.count(WaitPageCompletion.id)).where(
                WaitPageCompletion.session_id.in_(
                    sa.select(Participant.session_id).where(Participant.code == partner)
                )
            )
        )
    if results["revert"].applied:
        assert completed == 0
        assert _where(grove, codes[0])[0] == "Decision"
        assert _where(grove, partner)[0] == "ResultsWaitPage"
    else:
        assert completed == 1
        assert "after_all_players_arrive has run" in results["revert"].skipped[0].reason
        assert _where(grove, partner)[0] == "Results"


def test_revert_may_cross_a_wait_page_the_group_has_not_passed(grove):
    """An admin's advance let P1 pass the wait page alone (the Monitor's rule): reverting P1
    from Results crosses it back to Decision and forgets the arrival, so the partner's arrival
    alone does not let the pair through."""
    session, codes = _prisoner(grove)
    actions.advance(grove.db, grove.project, session, codes, who="test")
    actions.advance(grove.db, grove.project, session, [codes[0]], who="test")  # arrives, waits
    actions.advance(
        grove.db, grove.project, session, [codes[0]], who="test"
    )  # passes without the partner
    assert _where(grove, codes[0])[0] == "Results"
    back = actions.revert(grove.db, grove.project, session, [codes[0]], who="test")
    assert back.positions == {codes[0]: "Decision"}
    with grove.db.read() as db:
        partner = _partner(db, grove, codes[0])
        assert db.scalar(sa.select(sa.func.count(WaitPageArrival.id))) == 0
    actions.advance(grove.db, grove.project, session, [partner], who="test")
    assert _where(grove, partner)[0] == "ResultsWaitPage"


def test_app_code_reads_and_sets_is_dropout_as_in_otrees_recipe(grove):
    """multiplayer_waitpages.rst: app code sets ``participant.is_dropout = True`` (in
    before_next_page when timeout_happened) and reads it; Grove then plays on for them."""
    _session, codes = _prisoner(grove)
    player_cls = grove.project.apps["prisoner"].player_cls
    with grove.db.transaction() as db:
        players = db.scalars(sa.select(player_cls).where(player_cls.round_number == 1)).all()
        mine = next(p for p in players if p.participant.code == codes[1])
        assert mine.participant.is_dropout is False
        mine.participant.is_dropout = True  # what the recipe's before_next_page does
    with grove.db.read() as db:
        again = db.scalars(sa.select(player_cls).where(player_cls.id == mine.id)).one()
        assert again.participant.is_dropout is True
    timeouts.move_dropouts(grove.db, grove.project)
    assert _where(grove, codes[1])[:2] == ("ResultsWaitPage", 1)
    assert _where(grove, codes[0])[0] is None  # the others are where they were: not started
