"""Benchmarks (run as modules, e.g. `python -m bench.orgtree`); not part of the app."""
