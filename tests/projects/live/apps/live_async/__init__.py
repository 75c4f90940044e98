"""An async generator live method (oTree 6): each ``yield`` is an answer sent at once."""

import asyncio
from pathlib import Path

import httpx

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "live_async"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    counter = models.IntegerField(initial=0)


class Player(BasePlayer):
    reply = models.StringField(blank=True)
    asked = models.IntegerField(initial=0)


class Message(ExtraModel):
    player = models.Link(Player)
    role = models.StringField()
    text = models.StringField()


async def _released(data):
    # The test lets the method go on by creating this file.
    while not Path(data["release"]).exists():
        await asyncio.sleep(0.01)


async def streaming(player, data):
    group = player.group
    group.counter += 1
    yield {0: {"step": 1, "counter": group.counter}}
    await _released(data)
    group.counter += 10
    if data.get("kind") == "fail":
        raise ValueError("the second step failed")
    if data.get("kind") == "stop":
        yield None  # oTree ends the method here
        group.counter += 1000
    yield {player.id_in_group: {"step": 2, "counter": group.counter}}


async def returns_its_answer(player, data):
    return {0: "an async def without yield"}


async def chatting(player, data):
    # What an app calling a language model does: store the question, send the history,
    # await the answer (here: until the test creates a file), store it.
    Message.create(player=player, role="user", text=data["text"])
    asked = player.participant.vars.get("asked", 0) + 1
    player.participant.vars["asked"] = asked
    history = [m.text for m in Message.filter(player=player)]
    yield {player.id_in_group: {"history": history, "asked": asked}}
    await _released(data)
    answer = f"an answer to {data['text']}"
    Message.create(player=player, role="assistant", text=answer)
    player.reply = answer
    yield {player.id_in_group: {"stored": len(Message.values_dicts(player=player))}}


# A chat with a web API's client made once for the app, as oTree's documentation does
# (``OPENAI_CLIENT = AsyncOpenAI(...)``): its connections are kept between messages.
MODEL_CLIENT = httpx.AsyncClient()


async def asking_a_model(player, data):
    # The question goes to a model over HTTP (a fake one the test runs), its answer back.
    Message.create(player=player, role="user", text=data["text"])
    answer = (await MODEL_CLIENT.get(data["model"], params={"q": data["text"]})).text
    Message.create(player=player, role="assistant", text=answer)
    yield {player.id_in_group: {"answer": answer}}


async def taking_back(player, data):
    # A draft stored and withdrawn in one step, or one stored by an earlier message.
    draft = Message.create(player=player, role="draft", text=data["text"])
    if data.get("keep"):
        yield {player.id_in_group: {"drafts": len(Message.filter(player=player, role="draft"))}}
        return
    draft.delete()
    for earlier in Message.filter(player=player, role="draft"):
        earlier.delete()
    yield {player.id_in_group: {"drafts": len(Message.filter(player=player, role="draft"))}}


async def counting(player, data):
    # The player's own count of questions, then the (slow) model's answer.
    player.asked += 1
    await _released(data)
    yield {player.id_in_group: {"asked": player.asked}}


async def reading_then_waiting(player, data):
    # The conversation so far is read, then the model is awaited with it.
    history = [m.text for m in Message.filter(player=player)]
    await _released(data)
    yield {player.id_in_group: {"history": history}}


async def thinking_first(player, data):
    # The conversation kept in participant.vars (a list the method holds on to); the page
    # shows "thinking" at once, then the model's answer is added to the conversation.
    replies = player.participant.vars.setdefault("replies", [])
    yield {player.id_in_group: {"thinking": True}}
    await asyncio.sleep(0.05)  # the model
    replies.append(data["text"])
    yield {player.id_in_group: {"replies": list(replies)}}


async def noting(player, data):
    # The question counted in participant.vars, then the (slow) model's answer.
    player.participant.vars["questions"] = player.participant.vars.get("questions", 0) + 1
    await _released(data)
    yield {player.id_in_group: {"questions": player.participant.vars["questions"]}}


LAB_METHODS = {
    "note": noting,
    "thinking": thinking_first,
    "model": asking_a_model,
    "take_back": taking_back,
    "count": counting,
    "read_then_wait": reading_then_waiting,
}


async def lab(player, data):
    async for answer in LAB_METHODS[data["kind"]](player, data):
        yield answer


class Stream(Page):
    live_method = streaming


class Refused(Page):
    live_method = returns_its_answer


class Chat(Page):
    live_method = chatting


class Lab(Page):
    live_method = lab

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.participant.vars["left_lab"] = True


page_sequence = [Stream, Refused, Chat, Lab]
