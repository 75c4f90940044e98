"""`python -m server test` plays an app whose page code runs a coroutine of its own with
``asyncio.run`` (a sync wrapper of an async client library does that), as ``otree test`` and
Grove's servers do. The bot runner does a page's work on its own event loop's thread (issue
20: no thread hop per request); that loop must not be the one such code finds running."""

from __future__ import annotations

from server.__main__ import main


def test_page_code_that_runs_asyncio_run_passes_its_bots(capsys, botfail_copy):
    root = botfail_copy
    rounds = root / "apps" / "rounds" / "__init__.py"
    rounds.write_text(
        rounds.read_text()
        .replace("from server.api import *\n", "from server.api import *\nimport asyncio\n")
        .replace(
            "class Question(Page):\n",
            "async def _doubled(value):\n"
            "    await asyncio.sleep(0)\n"
            "    return 2 * value\n\n\n"
            "class Question(Page):\n"
            "    @staticmethod\n"
            "    def vars_for_template(player):\n"
            "        return dict(doubled=asyncio.run(_doubled(player.round_number)))\n\n"
            "    @staticmethod\n"
            "    def before_next_page(player, timeout_happened):\n"
            "        loop = asyncio.new_event_loop()\n"
            "        try:\n"
            "            assert loop.run_until_complete(_doubled(3)) == 6\n"
            "        finally:\n"
            "            loop.close()\n\n",
        )
    )
    code = main(["test", "rounds_pass"])
    _out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
