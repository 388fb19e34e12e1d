"""The API for declaring activities (names follow the familiar SDK's ``activity`` module)."""

from ._activity_defn import ActivityDefinition as ActivityDefinition
from ._activity_defn import defn as defn

__all__ = ["ActivityDefinition", "defn"]
