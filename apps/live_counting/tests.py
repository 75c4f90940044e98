# Bots for the counting task. oTree's bots cannot run a page's JavaScript, so the task is
# played by call_live_method below: it calls the Counting page's live_method as the player, as
# liveSend on the page would, reading each grid from the live method's answer as the page does.
# Two cases: "counts" (answers right, wrong and malformed) and "idle" (no answer at all).
import asyncio
import inspect

from server.api import Bot, Submission, cu, expect

from . import C, Counting, Introduction, Item, Results

# One player per group: id_in_group is always 1.
ME = 1


def live(method, id_in_group, data):
    """Send data as player id_in_group; returns what the live method returned."""
    result = method(id_in_group, data)
    # oTree 6.0.15's bots hand back the live method's call unrun (an async generator, as its
    # live methods may be async); running it runs the live method once.
    if inspect.isasyncgen(result):
        (result,) = asyncio.run(_collect(result))
    return result


async def _collect(messages):
    return [message async for message in messages]


def zeros(state):
    return sum(row.count("0") for row in state["rows"])


def call_live_method(method, **kwargs):
    # Loading the page sends {}: the first grid, to this player.
    state = live(method, ME, {})[ME]
    expect(state["item"], 1)
    expect(len(state["rows"]), C.GRID_ROWS)
    expect({len(row) for row in state["rows"]}, {C.GRID_COLUMNS})
    expect(state["score"], 0)
    # A reload shows the same grid.
    expect(live(method, ME, {})[ME], state)
    if kwargs["case"] == "idle":
        return

    # Two right answers and one wrong one.
    state = live(method, ME, {"answer": zeros(state)})[ME]
    expect(state["feedback"], "correct")
    expect((state["item"], state["score"], state["answered"]), (2, 1, 1))
    state = live(method, ME, {"answer": zeros(state) + 1})[ME]
    expect(state["feedback"], "incorrect")
    expect((state["item"], state["score"], state["answered"]), (3, 1, 2))
    state = live(method, ME, {"answer": zeros(state)})[ME]
    expect(state["feedback"], "correct")
    expect((state["item"], state["score"], state["answered"]), (4, 2, 3))

    # What is not a count is refused, and the grid stays.
    for bad in [None, "12", 12.5, False, -1, C.GRID_ROWS * C.GRID_COLUMNS + 1]:
        refused = live(method, ME, {"answer": bad})[ME]
        expect(refused["error"] is None, False)
        expect((refused["item"], refused["rows"]), (4, state["rows"]))


class PlayerBot(Bot):
    cases = ["counts", "idle"]

    def play_round(self):
        yield Introduction
        # The page has no Next button: it ends when the time runs out.
        yield Submission(Counting, timeout_happened=True, check_html=False)
        player = self.player
        items = sorted(Item.filter(player=player), key=lambda item: item.number)
        if self.case == "counts":
            expect(player.score, 2)
            expect(player.num_answered, 3)
            expect(player.payoff, 2 * C.PAYMENT_PER_CORRECT)
            expect([item.is_correct for item in items[:3]], [True, False, True])
            # The grid on screen when the time ran out is stored unanswered.
            expect(len(items), 4)
            expect(items[3].answer, None)
        else:
            expect(player.score, 0)
            expect(player.payoff, cu(0))
            expect(len(items), 1)
        yield Results
