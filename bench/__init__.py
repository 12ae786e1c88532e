"""Benchmarks of Portico over real HTTP (``python -m bench`` / ``make bench``)."""
