"""Idempotency keys for state-changing HTTP requests. Knows no domain; any API layer may use it."""
