"""Shared plumbing that knows nothing of any domain."""
