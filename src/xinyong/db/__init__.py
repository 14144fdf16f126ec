"""Database plumbing: declarative base, engine, sessions and Alembic migrations."""
