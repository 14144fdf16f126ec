"""Web plumbing shared by every domain's pages and API: dependencies, templates, errors, security headers."""
