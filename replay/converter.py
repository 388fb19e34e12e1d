"""How values become payloads and back (names follow the familiar SDK's ``converter``).

A payload here is JSON data, as a history holds it: plain JSON for the
``json/plain`` encoding, an envelope for anything else (bytes values, the output
of a payload codec). ``Payload`` (metadata and bytes) is what encoding converters
and codecs work with. See docs/converters.md.

* ``DataConverter``: a payload converter, the failure converter and an optional
  ``PayloadCodec``; give it to ``Client.connect(data_converter=...)`` and every
  worker, handle, replayer and test environment made with that client uses it.
* ``DefaultPayloadConverter``: ``binary/null``, ``binary/plain`` and
  ``json/plain``; ``register(cls, to_payload, from_payload)`` teaches it a type.
* ``CompositePayloadConverter`` and ``EncodingPayloadConverter`` to build your own.
"""

from ._core._converters import BinaryNullPayloadConverter as BinaryNullPayloadConverter
from ._core._converters import BinaryPlainPayloadConverter as BinaryPlainPayloadConverter
from ._core._converters import CompositePayloadConverter as CompositePayloadConverter
from ._core._converters import DefaultPayloadConverter as DefaultPayloadConverter
from ._core._converters import EncodingPayloadConverter as EncodingPayloadConverter
from ._core._converters import JSONPlainPayloadConverter as JSONPlainPayloadConverter
from ._core._data_converter import DataConverter as DataConverter
from ._core._data_converter import DefaultFailureConverter as DefaultFailureConverter
from ._core._data_converter import FailureConverter as FailureConverter
from ._core._data_converter import default as default
from ._core._public import publish as _publish
from .history import Payload as Payload
from .history import PayloadCodec as PayloadCodec
from .history import PayloadConverter as PayloadConverter

__all__ = [
    "BinaryNullPayloadConverter",
    "BinaryPlainPayloadConverter",
    "CompositePayloadConverter",
    "DataConverter",
    "DefaultFailureConverter",
    "DefaultPayloadConverter",
    "EncodingPayloadConverter",
    "FailureConverter",
    "JSONPlainPayloadConverter",
    "Payload",
    "PayloadCodec",
    "PayloadConverter",
    "default",
]

_publish(__name__, globals(), private="replay._")
