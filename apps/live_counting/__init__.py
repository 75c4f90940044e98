# A real-effort task on a live page: count the zeros in a grid of 0s and 1s. The participant
# types a count; the page sends it with liveSend, the server checks it in live_method and
# answers at once with "correct" or "incorrect", the score, and the next grid, without loading
# a new page. Each grid is drawn at random on the server and kept there (an ExtraModel row), so
# the answer never reaches the browser. The task ends when the time limit runs out.
import random

from server.api import *

doc = """
Real-effort counting task on a live page: count the zeros in grids of digits, with live
feedback and a score, for a limited time.
"""


class C(BaseConstants):
    NAME_IN_URL = "live_counting"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1
    # Each grid has this many rows of this many digits.
    GRID_ROWS = 5
    GRID_COLUMNS = 10
    # Paid for each grid counted correctly.
    PAYMENT_PER_CORRECT = cu(10)
    # The task's time limit when the session config does not set counting_seconds.
    DEFAULT_COUNTING_SECONDS = 60


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    # The grid the participant is counting now (its Item's number), and how many so far.
    current_item = models.IntegerField(initial=0)
    num_answered = models.IntegerField(initial=0)
    score = models.IntegerField(initial=0)


# One row per grid shown (ExtraModel: many rows per player). The last one is left unanswered
# when the time runs out.
class Item(ExtraModel):
    player = models.Link(Player)
    number = models.IntegerField()
    # The grid's digits, row after row (GRID_ROWS * GRID_COLUMNS characters, each 0 or 1).
    digits = models.StringField()
    solution = models.IntegerField()
    answer = models.IntegerField()
    is_correct = models.BooleanField()


def new_item(player):
    digits = "".join(random.choice("01") for _ in range(C.GRID_ROWS * C.GRID_COLUMNS))
    player.current_item += 1
    return Item.create(
        player=player, number=player.current_item, digits=digits, solution=digits.count("0")
    )


def current_item(player):
    # The page's first message creates the first grid; a reload shows the same grid again.
    if player.current_item == 0:
        return new_item(player)
    (item,) = Item.filter(player=player, number=player.current_item)
    return item


# What the page shows: the grid to count (as rows of digits), the score, and the feedback.
def task_state(player, feedback=None, error=None):
    item = current_item(player)
    width = C.GRID_COLUMNS
    return dict(
        item=item.number,
        rows=[item.digits[start : start + width] for start in range(0, len(item.digits), width)],
        score=player.score,
        answered=player.num_answered,
        feedback=feedback,
        error=error,
    )


# The time limit comes from the session config (counting_seconds), so a session can change it.
def counting_seconds(player):
    return player.session.config.get("counting_seconds", C.DEFAULT_COUNTING_SECONDS)


class Introduction(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(seconds=counting_seconds(player))


class Counting(Page):
    timer_text = "Time left:"

    # When the time runs out the page is submitted: the task ends.
    @staticmethod
    def get_timeout_seconds(player):
        return counting_seconds(player)

    # The page sends {"answer": 23} with a count, and {} when it loads (or reloads).
    @staticmethod
    def live_method(player, data):
        me = player.id_in_group
        if not (isinstance(data, dict) and "answer" in data):
            return {me: task_state(player)}
        answer = data["answer"]
        # JSON has one kind of number: 23.0 and True are not counts, 23 is.
        if type(answer) is not int or not 0 <= answer <= C.GRID_ROWS * C.GRID_COLUMNS:
            error = f"Enter a whole number from 0 to {C.GRID_ROWS * C.GRID_COLUMNS}."
            return {me: task_state(player, error=error)}
        item = current_item(player)
        item.answer = answer
        item.is_correct = answer == item.solution
        player.num_answered += 1
        if item.is_correct:
            player.score += 1
        new_item(player)
        feedback = "correct" if item.is_correct else "incorrect"
        return {me: task_state(player, feedback=feedback)}

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.payoff = player.score * C.PAYMENT_PER_CORRECT


class Results(Page):
    pass


# A custom data export (oTree's custom_export): one row per grid shown.
def custom_export(players):
    yield ["session", "participant_code", "item", "solution", "answer", "is_correct"]
    for player in players:
        for item in sorted(Item.filter(player=player), key=lambda item: item.number):
            yield [
                player.session.code,
                player.participant.code,
                item.number,
                item.solution,
                item.answer,
                item.is_correct,
            ]


page_sequence = [Introduction, Counting, Results]
