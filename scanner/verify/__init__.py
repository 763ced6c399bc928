"""Opt-in live checks (``sprawl scan --verify``): one read-only request per
distinct secret to its registry's own host. Never imported by the commit hooks."""
