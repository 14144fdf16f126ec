"""Lists: 严重失信主体名单, 守信激励对象名单 and 市场禁入 — due process, escalation rules, entries in force."""
