"""Portico benchmarks, run outside the test suite."""
