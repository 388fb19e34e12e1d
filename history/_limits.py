"""How deep a history may nest, for the reader and every writer alike.

The reader (:mod:`history._jsontext`) refuses a document nested deeper than
:data:`MAX_DEPTH`. So that nothing the engine writes is refused when read back,
the writers keep within the same budget:

* a payload nests at most :data:`MAX_PAYLOAD_DEPTH` arrays and objects, or the
  converter refuses it with a PayloadError naming where;
* a recorded failure keeps at most :data:`MAX_FAILURE_CHAIN` failures in its
  cause chain (the failure itself, its causes and, when causes were dropped, a
  marker saying how many).

How the levels add up: the document is level 1, its events list level 2, an
event level 3. A payload written in an event field (``result``) starts at
level 4, one in a list or map field (``args``, ``headers``) at level 5. A
failure is an event field (level 4); its ``details`` list is one level below it
and each detail payload starts one below that, and each cause sits one level
below the failure it caused. The deepest payload is a detail of the last
failure of the longest chain: it starts at level ``3 + MAX_FAILURE_CHAIN + 2``
and ends ``MAX_PAYLOAD_DEPTH - 1`` levels further down, which is MAX_DEPTH.
"""

from __future__ import annotations

MAX_DEPTH = 128
"""Deepest nesting of arrays and objects a history may have (the document is level 1)."""

EVENT_LEVEL = 3
"""The level of an event: the document (1), its ``events`` list (2), the event (3)."""

MAX_PAYLOAD_DEPTH = 64
"""Most arrays and objects a payload may nest (a scalar nests none, ``[[]]`` two)."""

MAX_FAILURE_CHAIN = MAX_DEPTH - MAX_PAYLOAD_DEPTH + 1 - EVENT_LEVEL - 2
"""Most failures a recorded cause chain holds: the failure, its causes, the marker (60)."""
