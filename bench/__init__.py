"""Benchmarks of the order management service (``make bench``; see bench/README.md).

Never part of the test run: pytest's testpaths leave this package out and it holds no test files.
"""
