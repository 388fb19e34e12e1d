"""Pydantic v2 models as workflow and activity arguments and results.

``Client.connect(..., data_converter=pydantic_data_converter)``: models (also inside
``list``, ``dict``, ``Optional``) go in and come back typed by the handler's
annotations. Needs the ``pydantic`` extra: ``pip install 'replay-engine[pydantic]'``.
"""

try:
    import pydantic as _pydantic  # noqa: F401 (checked here to name the extra)
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "replay.contrib.pydantic needs pydantic (v2), which is not installed: "
        "pip install 'replay-engine[pydantic]'") from _exc

from ._pydantic import PydanticJSONPlainPayloadConverter as PydanticJSONPlainPayloadConverter
from ._pydantic import PydanticPayloadConverter as PydanticPayloadConverter
from ._pydantic import pydantic_data_converter as pydantic_data_converter

__all__ = [
    "PydanticJSONPlainPayloadConverter",
    "PydanticPayloadConverter",
    "pydantic_data_converter",
]

for _cls in (PydanticJSONPlainPayloadConverter, PydanticPayloadConverter):
    _cls.__module__ = __name__  # the public home
del _cls
