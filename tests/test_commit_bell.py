"""The commit bell (server.commit_bell): a SQLite commit that published wakes every process's
push hub at once, rather than at the hub's next look at the database."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from server import commit_bell, push
from server.db import Database
from server.push_hub import PushHub

# The SQLite watcher (PostgreSQL delivers by NOTIFY at the commit).
pytestmark = pytest.mark.sqlite

SLOW_LOOK = 2.0  # seconds between the hub's looks at data_version without a bell


def test_a_commit_in_another_database_object_wakes_the_hub_at_once(app, settings):
    database = app.state.grove.db
    other = Database(settings.database_url)  # another process's connection to the file

    async def scenario() -> float:
        hub = PushHub(database, 60.0, poll_interval=SLOW_LOOK)
        subscription = await hub.subscribe("page:someone")
        try:
            await asyncio.sleep(0.1)  # the watcher is in its wait
            started = time.monotonic()
            await asyncio.to_thread(
                other.run, lambda db: push.publish(db, "page:someone", '{"type": "check"}')
            )
            await asyncio.wait_for(subscription.queue.get(), 10)
            return time.monotonic() - started
        finally:
            hub.unsubscribe(subscription)
            await hub.close()

    try:
        seconds = asyncio.run(scenario())
    finally:
        other.dispose()
    # Without the bell the message waits for the hub's next look, SLOW_LOOK seconds later.
    assert seconds < SLOW_LOOK / 2, seconds


def test_a_closed_hub_leaves_no_socket_behind(app):
    database = app.state.grove.db
    folder = commit_bell.bell_folder(database.sqlite_path)

    async def scenario() -> int:
        hub = PushHub(database, 60.0)
        subscription = await hub.subscribe("page:someone")
        listening = len(os.listdir(folder))
        hub.unsubscribe(subscription)
        await hub.close()
        return listening

    assert asyncio.run(scenario()) == 1
    assert not folder.exists()


def test_ringing_removes_the_socket_of_a_process_that_is_gone(tmp_path):
    database = tmp_path / "grove.db"
    listener = commit_bell.BellListener(database)
    gone = commit_bell.BellListener(database)
    gone.socket.close()  # as a killed process would leave it: the name, nobody bound
    try:
        commit_bell.ring(database)
        assert not gone.path.exists()
        assert listener.path.exists()
        assert listener.socket.recv(64) == b"!"
        listener.drain()
        with pytest.raises(BlockingIOError):
            listener.socket.recv(64)
    finally:
        listener.close()
        gone.close()


def test_ringing_a_bell_nobody_listens_to_does_nothing(tmp_path):
    commit_bell.ring(tmp_path / "never.db")  # no folder: no error, nothing made
    assert not commit_bell.bell_folder(tmp_path / "never.db").exists()


def _socket_outside(tmp_path):
    import socket

    outside = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    outside.setblocking(False)
    outside.bind(str(tmp_path / "outside"))
    return outside


def test_ringing_sends_nothing_through_a_link_in_the_folder(tmp_path):
    """Only the listeners' own sockets are rung: a symbolic link placed in the folder (to
    the system log's socket, say) gets nothing."""
    database = tmp_path / "grove.db"
    listener = commit_bell.BellListener(database)
    outside = _socket_outside(tmp_path)
    try:
        os.symlink(tmp_path / "outside", listener.path.parent / "planted")
        commit_bell.ring(database)
        assert listener.socket.recv(64) == b"!"
        with pytest.raises(BlockingIOError):
            outside.recv(64)
    finally:
        (listener.path.parent / "planted").unlink()
        listener.close()
        outside.close()


@pytest.mark.skipif(os.getuid() != 0, reason="making a folder of another user needs root")
def test_a_bell_folder_of_another_user_is_not_rung(tmp_path):
    """Another local user who made the bell's folder first (it is in the shared temporary
    folder) gets no byte at each commit: the folder must be this user's."""
    database = tmp_path / "grove.db"
    folder = commit_bell.bell_folder(database)
    folder.mkdir(mode=0o755)
    outside = _socket_outside(tmp_path)
    try:
        os.rename(tmp_path / "outside", folder / "theirs")
        os.chown(folder, 4321, 4321)
        commit_bell.ring(database)
        with pytest.raises(BlockingIOError):
            outside.recv(64)
    finally:
        outside.close()
        for entry in folder.iterdir():
            entry.unlink()
        folder.rmdir()


def test_a_ring_that_fails_after_the_commit_does_not_fail_the_committed_request(app, monkeypatch):
    """The bell rings after the COMMIT: a failure there (no file numbers left on a worker
    with many sockets) must not tell the caller that its committed work failed, which a
    retry would then write twice. (Found by a reviewer of 713a0d4.)"""
    import socket

    import sqlalchemy as sa

    from server.models.push import PushMessage

    database = app.state.grove.db
    listener = commit_bell.BellListener(database.sqlite_path)
    real_socket = socket.socket

    def no_more_files(family: int = -1, *args, **kwargs):
        if family == socket.AF_UNIX:
            raise OSError(24, "Too many open files")
        return real_socket(family, *args, **kwargs)

    try:
        monkeypatch.setattr(commit_bell.socket, "socket", no_more_files)
        database.run(lambda db: push.publish(db, "page:someone", '{"type": "check"}'))
        monkeypatch.setattr(commit_bell.socket, "socket", real_socket)
        with database.read() as db:
            stored = db.scalar(
                sa.select(sa.func.count(PushMessage.id)).where(
                    PushMessage.channel == "page:someone"
                )
            )
        assert stored == 1
    finally:
        listener.close()
