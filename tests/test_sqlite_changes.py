"""CommitWatch (server.sqlite_changes): the push hub's SQLite watcher reads the message table
only after someone committed; a commit by any other connection is seen, nothing else is."""

from __future__ import annotations

import sqlite3

from server.sqlite_changes import CommitWatch
from tests import databases


def test_a_commit_by_another_connection_is_a_change_and_a_read_is_not(tmp_path):
    # SQLite's own change counter: a SQLite file whatever the run's database.
    path = databases.sqlite_file(databases.database_url(tmp_path, backend=databases.SQLITE))
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE message (id INTEGER PRIMARY KEY)")
    watch = CommitWatch(path)
    assert watch.changed() is False
    writer.execute("INSERT INTO message DEFAULT VALUES")
    assert watch.changed() is True
    assert watch.changed() is False  # once per change
    writer.execute("SELECT count(*) FROM message").fetchone()
    writer.execute("BEGIN")
    writer.execute("INSERT INTO message DEFAULT VALUES")
    assert watch.changed() is False  # not committed yet
    writer.execute("COMMIT")
    assert watch.changed() is True
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO message DEFAULT VALUES")
    assert watch.changed() is True
    watch.close()
    writer.close()
    other.close()
