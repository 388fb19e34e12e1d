"""Reproducible performance suite: ``python -m benchmarks [--quick] [SECTION...]``."""
