"""Helpers for the worker/client tests (the workload itself is ``fixtures.workload``)."""
