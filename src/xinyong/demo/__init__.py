"""Synthetic demo data: a deterministic Sichuan of departments, subjects and department batches."""
