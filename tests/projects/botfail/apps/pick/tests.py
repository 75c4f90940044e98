from server.api import Bot, Submission, SubmissionMustFail, expect

from . import Choose, End


class PlayerBot(Bot):
    def play_round(self):
        mode = self.session.config["mode"]
        if mode == "button_value_not_offered":
            yield Choose, dict(share="Maybe")
        yield SubmissionMustFail(Choose, dict(share=""))
        yield Choose, dict(share=False)
        expect(self.player.share, False)
        if mode == "submits_page_without_button":
            yield End
        if mode == "submits_page_without_button_unchecked":
            yield Submission(End, check_html=False)
