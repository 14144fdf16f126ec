"""Audit trail: an append-only, hash-chained log of logins, reads of non-public data, writes and exports."""
