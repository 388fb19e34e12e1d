"""Sample workflows used by the engine's tests."""
