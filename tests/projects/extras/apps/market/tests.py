from server.api import Bot, SubmissionMustFail, expect

from . import Bid, Bidding


class PlayerBot(Bot):
    def play_round(self):
        mode = self.session.config.get("bots", "good")
        if mode == "too_few":
            # Both fields are out of range: naming one of them is not enough.
            yield SubmissionMustFail(
                Bidding, dict(num_bids=9, amount=500), error_fields=["num_bids"]
            )
        if mode == "wrong":
            # error_message's error is the whole form's, not the field's.
            yield SubmissionMustFail(Bidding, dict(num_bids=0, amount=5), error_fields=["amount"])
        yield SubmissionMustFail(Bidding, dict(num_bids=0, amount=5), error_fields=["__all__"])
        yield SubmissionMustFail(
            Bidding, dict(num_bids=9, amount=500), error_fields=["num_bids", "amount"]
        )
        yield SubmissionMustFail(Bidding, dict(num_bids=9, amount=5), error_fields=("num_bids",))
        yield SubmissionMustFail(Bidding, dict(num_bids=9, amount=5))
        yield Bidding, dict(num_bids=2, amount=3)
        expect(self.player.was_bot, True)
        expect(self.participant._is_bot, True)
        expect([bid.amount for bid in Bid.filter(player=self.player)], [3, 4])
        # Results is the last page and has no Next button: the bot stays there, as a
        # participant does (oTree's bots cannot submit a page without a button).
