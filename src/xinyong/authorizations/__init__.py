"""Authorisations (授权): a subject lets a named organisation read its non-public file for a purpose, until a date."""
