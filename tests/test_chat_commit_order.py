"""Found 2026-12-03 (review of what outlives a unit of work, chat) on PostgreSQL: a chat box
polls for the messages after the largest id it has shown (``grove-chat.js``: ``?after=<id>``),
but PostgreSQL hands out ids when a message is inserted, not when it commits. A message whose
transaction commits late (here one made to take 1.5 s over its COMMIT by a deferred trigger,
as a loaded server, a slow fsync or a unit of work run again may) keeps a smaller id than a
message of the same channel sent after it and committed first; a box that polled in between
has shown the later one and asks only for ids after it: the earlier message is never shown to
that participant. Measured before the fix (1 run): the partner's box showed ["fast"] and then
nothing, while both messages were stored. SQLite, which serializes writers, and oTree (one
process) show both.

Now a chat message's unit of work takes a lock of its session and channel
(``pg_advisory_xact_lock``) before it inserts, so within a channel ids commit in the order
they are taken: the second message waits for the first one's commit, and the box shows both.
"""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from tests import databases
from tests.hook_races import Browser, create_session
from tests.live_server import live_server

# A deferred trigger that makes the COMMIT of a message "slow" take 1.5 s (after its id was
# taken at the INSERT): a late commit, made certain.
SLOW_COMMIT = [
    """CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$""",
    """CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON grove_chat_message
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.body = 'slow')
       EXECUTE FUNCTION test_slow_commit()""",
]


def _chat(browser: Browser) -> tuple[str, str]:
    """The chat endpoint and token of the browser's current page's ``{{ chat }}`` box."""
    found = re.search(r'data-url="([^"]+)" data-token="([^"]+)"', browser.page)
    assert found, browser.page
    return found.group(1), found.group(2)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_message_committed_late_is_still_shown_to_a_box_that_polled_meanwhile(tmp_path):
    url = databases.database_url(tmp_path, "chat", databases.POSTGRESQL)
    log_path = tmp_path / "server.log"
    with live_server(url, workers=2, log_path=log_path) as base:
        engine = databases.engine(url)
        with engine.begin() as connection:
            for statement in SLOW_COMMIT:
                connection.exec_driver_sql(statement)
        engine.dispose()
        session = create_session(base, "prisoner", 2)
        first, second = (Browser(base, p["code"]).start() for p in session["participants"])
        (first_url, first_token), (second_url, second_token) = _chat(first), _chat(second)
        sent: list[int] = []

        def send_slow() -> None:
            answer = first.client.post(first_url, json={"token": first_token, "body": "slow"})
            sent.append(answer.status_code)

        slow = threading.Thread(target=send_slow)
        slow.start()
        time.sleep(0.4)  # the slow message has its id and waits in its COMMIT
        fast = second.client.post(second_url, json={"token": second_token, "body": "fast"})
        # The partner's box, as grove-chat.js polls: after the largest id shown so far.
        shown: list[str] = []
        last = 0
        for _poll in range(2):
            answer = second.client.get(second_url, params={"token": second_token, "after": last})
            for message in answer.json()["messages"]:
                shown.append(message["body"])
                last = max(last, message["id"])
            slow.join()
        first.close()
        second.close()
        stored = httpx.get(f"{base}/api/export/chat", params={"format": "json"}, timeout=60).json()[
            "rows"
        ]
    outcome = (sent, fast.status_code, sorted(shown), sorted(r["body"] for r in stored))
    assert outcome == ([200], 200, ["fast", "slow"], ["fast", "slow"]), outcome
