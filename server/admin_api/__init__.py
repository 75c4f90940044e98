"""The admin REST API under ``/admin/api/v1/``: what the admin area does, scriptable with a
scoped key (``server/admin_api/routes.py`` lists its operations)."""
