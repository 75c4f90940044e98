"""SQLAlchemy tables: the fixed core tables and the per-app tables built from each app."""
