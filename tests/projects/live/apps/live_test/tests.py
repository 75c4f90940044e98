from server.api import Bot, expect

from . import Play


class PlayerBot(Bot):
    def play_round(self):
        yield Play
        expect(self.group.counter, 3)
        expect(self.group.finished, True)
        # Done is the last page and has no Next button: the bot stays there.


def call_live_method(method, **kwargs):
    assert kwargs["page_class"] is Play
    assert kwargs["round_number"] == 1
    assert "case" in kwargs
    answer = method(1, {"kind": "add", "amount": 2})
    assert answer == {0: {"counter": 2, "from": 1}}, answer
    method(2, {"kind": "add"})
    method(2, {"kind": "finish"})
