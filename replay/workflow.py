"""The API used inside workflow code (names follow the familiar SDK's ``workflow`` module)."""

from ._common import ActivityCancellationType as ActivityCancellationType
from ._definition import HandlerUnfinishedPolicy as HandlerUnfinishedPolicy
from ._definition import defn as defn
from ._definition import init as init
from ._definition import query as query
from ._definition import run as run
from ._definition import signal as signal
from ._definition import update as update
from ._exceptions import ContinueAsNewError as ContinueAsNewError
from ._info import ParentInfo as ParentInfo
from ._info import WorkflowInfo as WorkflowInfo
from ._runtime import ActivityHandle as ActivityHandle
from ._runtime import ChildWorkflowHandle as ChildWorkflowHandle
from ._runtime import ExternalWorkflowHandle as ExternalWorkflowHandle
from ._runtime import NotInWorkflowError as NotInWorkflowError
from ._runtime import all_handlers_finished as all_handlers_finished
from ._runtime import continue_as_new as continue_as_new
from ._runtime import deprecate_patch as deprecate_patch
from ._runtime import emit as emit
from ._runtime import execute_activity as execute_activity
from ._runtime import execute_activity_method as execute_activity_method
from ._runtime import execute_child_workflow as execute_child_workflow
from ._runtime import execute_local_activity as execute_local_activity
from ._runtime import execute_local_activity_method as execute_local_activity_method
from ._runtime import get_external_workflow_handle as get_external_workflow_handle
from ._runtime import get_external_workflow_handle_for as get_external_workflow_handle_for
from ._runtime import info as info
from ._runtime import logger as logger
from ._runtime import memo as memo
from ._runtime import memo_value as memo_value
from ._runtime import now as now
from ._runtime import patched as patched
from ._runtime import payload_converter as payload_converter
from ._runtime import random as random
from ._runtime import set_dynamic_query_handler as set_dynamic_query_handler
from ._runtime import set_dynamic_signal_handler as set_dynamic_signal_handler
from ._runtime import set_dynamic_update_handler as set_dynamic_update_handler
from ._runtime import set_query_handler as set_query_handler
from ._runtime import set_signal_handler as set_signal_handler
from ._runtime import set_update_handler as set_update_handler
from ._runtime import sleep as sleep
from ._runtime import start_activity as start_activity
from ._runtime import start_activity_method as start_activity_method
from ._runtime import start_child_workflow as start_child_workflow
from ._runtime import start_local_activity as start_local_activity
from ._runtime import start_local_activity_method as start_local_activity_method
from ._runtime import time as time
from ._runtime import unsafe as unsafe
from ._runtime import uuid4 as uuid4
from ._runtime import wait_condition as wait_condition

__all__ = [
    "ActivityCancellationType",
    "ActivityHandle",
    "ChildWorkflowHandle",
    "ContinueAsNewError",
    "ExternalWorkflowHandle",
    "HandlerUnfinishedPolicy",
    "NotInWorkflowError",
    "ParentInfo",
    "WorkflowInfo",
    "all_handlers_finished",
    "continue_as_new",
    "defn",
    "deprecate_patch",
    "emit",
    "execute_activity",
    "execute_activity_method",
    "execute_child_workflow",
    "execute_local_activity",
    "execute_local_activity_method",
    "get_external_workflow_handle",
    "get_external_workflow_handle_for",
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
    "uuid4",
    "wait_condition",
]
