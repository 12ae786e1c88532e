"""``python -m bench`` (``make bench``): the benchmarks (SCIM: ``python -m bench.scim --help``)."""

from bench import scim

scim.main()
