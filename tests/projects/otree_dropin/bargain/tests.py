from otree.api import Bot, Submission, SubmissionMustFail, cu, expect

from . import C, Offer, Propose, Respond, Results


class PlayerBot(Bot):
    def play_round(self):
        # Participant 1 sells in odd rounds, participant 2 in even ones (set_players).
        sells = (self.participant.id_in_session % 2 == 1) == (self.round_number % 2 == 1)
        expect(self.player.role, C.SELLER_ROLE if sells else C.BUYER_ROLE)
        expect(self.player.id_in_group, 1 if sells else 2)
        if self.player.role == C.SELLER_ROLE:
            yield SubmissionMustFail(Propose, dict(price=150), error_fields=['price'])
            yield Propose, dict(price=cu(40 + self.round_number))
            offers = Offer.filter(player=self.player, withdrawn=False)
            expect(len(offers), 1)
            expect(offers[0].amount, cu(40 + self.round_number))
            expect(self.player.is_bot, True)
        else:
            yield Respond, dict(accept=self.round_number != 2)
        yield Results
        # The drafts were deleted once both had decided.
        expect(len(Offer.filter(group=self.group, withdrawn=True)), 0)
        if self.round_number == 2:
            expect(self.player.payoff, cu(0))
        elif self.player.role == C.SELLER_ROLE:
            expect(self.player.payoff, cu(40 + self.round_number))
