"""Data export in oTree's formats, streamed from one read snapshot.

``tables``: what each export holds (all apps wide, one app, page times, chat, urn log,
``custom_export``), as a header and rows produced in batches; ``streaming``: CSV, CSV with a
byte-order mark and JSON, written chunk by chunk; ``service``: the use case that opens the read
transaction and hands back the cursor and the chunks.
"""
