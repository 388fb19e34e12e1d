"""The API used inside workflow code (names follow the familiar SDK's ``workflow`` module)."""

from ._core._common import ActivityCancellationType as ActivityCancellationType
from ._core._definition import HandlerUnfinishedPolicy as HandlerUnfinishedPolicy
from ._core._definition import WorkflowDefinition as WorkflowDefinition
from ._core._definition import defn as defn
from ._core._definition import init as init
from ._core._definition import query as query
from ._core._definition import run as run
from ._core._definition import signal as signal
from ._core._definition import update as update
from ._core._exceptions import ContinueAsNewError as ContinueAsNewError
from ._core._info import ParentInfo as ParentInfo
from ._core._info import WorkflowInfo as WorkflowInfo
from ._core._parent_close import ParentClosePolicy as ParentClosePolicy
from ._core._public import publish as _publish
from ._core._race import as_completed as as_completed
from ._core._race import wait as wait
from ._core._runtime import ActivityHandle as ActivityHandle
from ._core._runtime import ChildWorkflowHandle as ChildWorkflowHandle
from ._core._runtime import ExternalWorkflowHandle as ExternalWorkflowHandle
from ._core._runtime import NotInWorkflowError as NotInWorkflowError
from ._core._runtime import all_handlers_finished as all_handlers_finished
from ._core._runtime import continue_as_new as continue_as_new
from ._core._runtime import deprecate_patch as deprecate_patch
from ._core._runtime import emit as emit
from ._core._runtime import execute_activity as execute_activity
from ._core._runtime import execute_activity_method as execute_activity_method
from ._core._runtime import execute_child_workflow as execute_child_workflow
from ._core._runtime import execute_local_activity as execute_local_activity
from ._core._runtime import execute_local_activity_method as execute_local_activity_method
from ._core._runtime import get_dynamic_query_handler as get_dynamic_query_handler
from ._core._runtime import get_dynamic_signal_handler as get_dynamic_signal_handler
from ._core._runtime import get_dynamic_update_handler as get_dynamic_update_handler
from ._core._runtime import get_external_workflow_handle as get_external_workflow_handle
from ._core._runtime import get_external_workflow_handle_for as get_external_workflow_handle_for
from ._core._runtime import get_query_handler as get_query_handler
from ._core._runtime import get_signal_handler as get_signal_handler
from ._core._runtime import get_update_handler as get_update_handler
from ._core._runtime import info as info
from ._core._runtime import logger as logger
from ._core._runtime import memo as memo
from ._core._runtime import memo_value as memo_value
from ._core._runtime import now as now
from ._core._runtime import patched as patched
from ._core._runtime import payload_converter as payload_converter
from ._core._runtime import random as random
from ._core._runtime import set_dynamic_query_handler as set_dynamic_query_handler
from ._core._runtime import set_dynamic_signal_handler as set_dynamic_signal_handler
from ._core._runtime import set_dynamic_update_handler as set_dynamic_update_handler
from ._core._runtime import set_query_handler as set_query_handler
from ._core._runtime import set_signal_handler as set_signal_handler
from ._core._runtime import set_update_handler as set_update_handler
from ._core._runtime import sleep as sleep
from ._core._runtime import start_activity as start_activity
from ._core._runtime import start_activity_method as start_activity_method
from ._core._runtime import start_child_workflow as start_child_workflow
from ._core._runtime import start_local_activity as start_local_activity
from ._core._runtime import start_local_activity_method as start_local_activity_method
from ._core._runtime import time as time
from ._core._runtime import unsafe as unsafe
from ._core._runtime import upsert_search_attributes as upsert_search_attributes
from ._core._runtime import uuid4 as uuid4
from ._core._runtime import wait_condition as wait_condition

__all__ = [
    "ActivityCancellationType",
    "ActivityHandle",
    "ChildWorkflowHandle",
    "ContinueAsNewError",
    "ExternalWorkflowHandle",
    "HandlerUnfinishedPolicy",
    "NotInWorkflowError",
    "ParentClosePolicy",
    "ParentInfo",
    "WorkflowDefinition",
    "WorkflowInfo",
    "all_handlers_finished",
    "as_completed",
    "continue_as_new",
    "defn",
    "deprecate_patch",
    "emit",
    "execute_activity",
    "execute_activity_method",
    "execute_child_workflow",
    "execute_local_activity",
    "execute_local_activity_method",
    "get_dynamic_query_handler",
    "get_dynamic_signal_handler",
    "get_dynamic_update_handler",
    "get_external_workflow_handle",
    "get_external_workflow_handle_for",
    "get_query_handler",
    "get_signal_handler",
    "get_update_handler",
    "info",
    "init",
    "logger",
    "memo",
    "memo_value",
    "now",
    "patched",
    "payload_converter",
    "query",
    "random",
    "run",
    "set_dynamic_query_handler",
    "set_dynamic_signal_handler",
    "set_dynamic_update_handler",
    "set_query_handler",
    "set_signal_handler",
    "set_update_handler",
    "signal",
    "sleep",
    "start_activity",
    "start_activity_method",
    "start_child_workflow",
    "start_local_activity",
    "start_local_activity_method",
    "time",
    "unsafe",
    "update",
    "upsert_search_attributes",
    "uuid4",
    "wait",
    "wait_condition",
]

_publish(__name__, globals(), private="replay._")
