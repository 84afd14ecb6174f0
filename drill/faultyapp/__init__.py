"""Handlers installed only during a fault drill (``OMS_EXTRA_APPS=drill.faultyapp``).

``drill.flaky_audit`` fails while the drill's flag file exists, so its events are parked and retried
and maybe the dead-letter queue; ``drill.sabotage`` (only with ``OMS_DRILL_SABOTAGE=1``) breaks an
invariant on purpose, so that a drill which does not fail is known to be a drill that cannot.
"""
