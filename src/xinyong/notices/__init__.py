"""Notices to subjects and departments: repair notices (修复告知书), decisions, escalations."""
