# Bots for the public goods game: player 3 lets the time run out.
from server.api import Bot, Submission, cu, expect

from . import Contribute, Results


class PlayerBot(Bot):
    def play_round(self):
        if self.player.id_in_group == 3:
            yield Submission(Contribute, {}, timeout_happened=True)
            expect(self.player.timed_out, True)
        else:
            yield Contribute, dict(contribution=50)
        expect(self.group.total_contribution, cu(100))
        yield Results
