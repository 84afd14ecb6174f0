"""Fault drills: load plus crashes, broker loss and dropped connections, with nothing lost.

``python -m drill`` (``make drill``) starts the service's production processes as its own
subprocesses, drives simulated orders through the HTTP API, injects faults on a seeded schedule,
waits until nothing moves and checks that every order reached a final state exactly once.
"""
