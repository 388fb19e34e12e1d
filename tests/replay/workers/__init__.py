"""Sample workflows, activities and the subprocess worker used by the worker/client tests."""
