"""What the participant pages (server/web) and the APIs (server/rest) share: the running
server's objects and how errors become responses."""
