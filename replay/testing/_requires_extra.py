"""The check that the ``testing`` extra is installed (replay.testing imports it first)."""

try:
    import hypothesis  # noqa: F401 (imported only to see that it is installed)
except ImportError as missing:
    raise ImportError(
        "replay.testing needs hypothesis, which the engine itself does not install: "
        "pip install 'replay-engine[testing]'",
        name="hypothesis") from missing
