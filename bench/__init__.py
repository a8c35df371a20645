"""Benchmarks run by hand, outside the test suite (see README.md)."""
