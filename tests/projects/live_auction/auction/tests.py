from otree.api import Bot, expect

from . import *


class PlayerBot(Bot):
    def play_round(self):
        yield Market
        expect(self.group.top_bid, 15)
        expect(self.player.payoff, 85 if self.player.id_in_group == 2 else 0)


def _answer(answer):
    # oTree 6.0.15's method hands back an async generator that has not run yet
    if hasattr(answer, '__anext__'):
        import asyncio

        async def run(generator):
            return [item async for item in generator]

        return asyncio.run(run(answer))[0]
    return answer


def call_live_method(method, group: Group, **kwargs):
    expect(_answer(method(1, {'amount': 12})), {0: dict(type='top', top=12, bidder=1)})
    # the group the bots get shows what the live method wrote, as on oTree 6.0.15
    expect(group.top_bid, 12)
    expect(group.top_bidder, 1)
    _answer(method(2, {'amount': 15}))
    expect(group.top_bid, 15)
    expect(group.top_bidder, 2)
