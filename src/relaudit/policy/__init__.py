"""Audit policy: exceptions (suppressions with a reason and an expiry) and per-tier check policies."""
