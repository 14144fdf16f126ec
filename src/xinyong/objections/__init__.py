"""Objections (异议处理) to records: filing, the provider's answer, correction with versions, escalation."""
