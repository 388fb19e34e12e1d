"""The PostgreSQL store's SQL functions that write: index changes, and checked commits.

``apply_changes(changes jsonb)`` is the store's interpreter of
:mod:`history._changes` records (as ``_sqlite_rows`` is SQLite's): the records
come encoded by :mod:`history._postgres_changes` as one JSON array, each record
an array whose first element names its kind, and the function runs each one's
SQL in order. It returns the task queues of the activities it flagged for
cancellation. A result whose activity task is gone (a stale result) raises
SQLSTATE ``RP002`` naming the run and the activity's scheduled event id, and
the transaction fails.

``commit_checked(heads jsonb, changes jsonb, channel text, payload text)`` is
one whole commit in one statement (the caller runs it in its own transaction):
it locks the head rows of the runs in ``heads`` (in run id order, as every
commit that locks several runs does) and checks that each is exactly as the
caller planned from (status, last event id, whether the workflow task row
exists and has inputs, its attempt count, as :class:`~history._batch.RunHead`
says them; or that the run does not exist), then
applies ``changes`` and sends the commit's ``NOTIFY``. A head that moved raises
SQLSTATE ``RP001`` and nothing is written: the caller plans again under locks.
"""

from __future__ import annotations

from collections.abc import Sequence

HEAD_MOVED = "RP001"
"""SQLSTATE of ``commit_checked`` when a run head is not what the caller planned from."""
STALE_RESULT = "RP002"
"""SQLSTATE of ``apply_changes`` when a result's activity task is gone."""

FUNCTIONS = ("apply_changes", "commit_checked")
"""The functions every store must have (checked on open)."""


def _cast(column_type: str, at: int) -> str:
    """The expression reading element ``at`` of the record ``c`` as ``column_type``."""
    value = f"c->>{at}"
    kind = column_type.split(" NOT NULL")[0].split(" DEFAULT")[0].split(" GENERATED")[0]
    kind = kind.replace(" PRIMARY KEY", "").replace(" UNIQUE", "").strip()
    if kind == "text":
        return value
    if kind == "interval":
        return f"make_interval(secs => ({value})::double precision)"
    return f"({value})::{kind}"


def _row(tables: dict[str, tuple[tuple[str, str], ...]], table: str,
         columns: Sequence[str], first: int = 1) -> str:
    """``VALUES (...)`` of a row whose columns are the record's elements from ``first`` on."""
    types = dict(tables[table])
    return ", ".join(_cast(types[name], first + i) for i, name in enumerate(columns))


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",")]


_NO_REQUESTED = ("NOT EXISTS (SELECT 1 FROM {s}.update_requests AS u "
                 "WHERE u.run_id = c->>1 AND u.status = 'requested')")


def apply_changes_sql(schema: str, tables: dict[str, tuple[tuple[str, str], ...]],
                      run_columns: str, activity_columns: str, timer_columns: str,
                      update_columns: str) -> str:
    """``CREATE OR REPLACE FUNCTION`` of ``apply_changes`` in ``schema`` (the kinds' codes
    are :data:`history._postgres_changes.CODES`)."""
    s = schema
    runs, acts = _columns(run_columns), _columns(activity_columns)
    timers, updates = _columns(timer_columns), _columns(update_columns)
    no_requested = _NO_REQUESTED.format(s=s)
    return f"""CREATE OR REPLACE FUNCTION {s}.apply_changes(p_changes jsonb) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  c jsonb;
  v_queue text;
  v_queues text[] := '{{}}';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(p_changes) LOOP
    CASE c->>0
    WHEN 'E' THEN  -- AddEvents: [run_id, [[event_id, kind, time, data], ...]]
      INSERT INTO {s}.events (run_id, event_id, kind, time, data)
        SELECT c->>1, (e->>0)::integer, e->>1, e->>2, e->>3
        FROM jsonb_array_elements(c->2) AS e;
    WHEN 'A' THEN  -- AdvanceRun: [run_id, last_event_id]
      UPDATE {s}.runs SET last_event_id = (c->>2)::integer WHERE run_id = c->>1;
    WHEN 'I' THEN  -- InsertActivityTask: the row's columns
      INSERT INTO {s}.activity_tasks ({activity_columns})
        VALUES ({_row(tables, "activity_tasks", acts)});
    WHEN 'd' THEN  -- DeleteActivityTask: [run_id, scheduled_event_id, checked]
      DELETE FROM {s}.activity_tasks
        WHERE run_id = c->>1 AND scheduled_event_id = (c->>2)::integer;
      IF NOT FOUND AND (c->>3)::boolean THEN
        RAISE EXCEPTION USING ERRCODE = '{STALE_RESULT}',
          MESSAGE = 'replay: the activity task of this result is gone',
          DETAIL = jsonb_build_array(c->1, c->2)::text;
      END IF;
    WHEN 'N' THEN  -- NeedWorkflowTask: [run_id, task_queue, has_inputs]
      INSERT INTO {s}.workflow_tasks AS w (run_id, task_queue, has_inputs)
        VALUES (c->>1, c->>2, (c->>3)::boolean)
        ON CONFLICT (run_id) DO UPDATE SET has_inputs = true
        WHERE excluded.has_inputs AND NOT w.has_inputs;
    WHEN 'F' THEN  -- FinishWorkflowTask: [run_id]
      DELETE FROM {s}.workflow_tasks WHERE run_id = c->>1 AND {no_requested};
      IF NOT FOUND THEN
        UPDATE {s}.workflow_tasks SET has_inputs = false, lease_owner = NULL,
          lease_expires_at = NULL WHERE run_id = c->>1;
      END IF;
    WHEN 'L' THEN  -- LeaseActivityTask: [run_id, scheduled_event_id, owner, now, seconds]
      UPDATE {s}.activity_tasks SET attempt = attempt + 1, lease_owner = c->>3,
          lease_expires_at = (c->>4)::timestamptz
            + COALESCE(lease_span, make_interval(secs => (c->>5)::double precision))
        WHERE run_id = c->>1 AND scheduled_event_id = (c->>2)::integer
          AND lease_owner IS NULL;
    WHEN 'R' THEN  -- InsertRun: the row's columns
      INSERT INTO {s}.runs ({run_columns}) VALUES ({_row(tables, "runs", runs)});
    WHEN 'C' THEN  -- CloseRun: [run_id, last_event_id, status, close_time, next_run_id]
      UPDATE {s}.runs SET last_event_id = (c->>2)::integer, status = c->>3,
          close_time = (c->>4)::timestamptz, next_run_id = c->>5
        WHERE run_id = c->>1;
    WHEN 'X' THEN  -- RemoveRunWork: [run_id]
      DELETE FROM {s}.workflow_tasks WHERE run_id = c->>1;
      DELETE FROM {s}.activity_tasks WHERE run_id = c->>1;
      DELETE FROM {s}.timers WHERE run_id = c->>1;
    WHEN 'S' THEN  -- SetTaskFailure: [run_id, attempt, retry_at, failure]
      UPDATE {s}.runs SET task_attempt = (c->>2)::integer,
          task_retry_at = (c->>3)::timestamptz,
          task_failure = COALESCE(c->>4, task_failure)
        WHERE run_id = c->>1;
      IF c->>3 IS NOT NULL THEN
        UPDATE {s}.workflow_tasks SET lease_expires_at = (c->>3)::timestamptz
          WHERE run_id = c->>1;
      END IF;
    WHEN 'c' THEN  -- ClearTaskFailure: [run_id]
      UPDATE {s}.runs SET task_attempt = 0, task_retry_at = NULL, task_failure = NULL
        WHERE run_id = c->>1;
    WHEN 'D' THEN  -- DropIdleWorkflowTask: [run_id]
      DELETE FROM {s}.workflow_tasks WHERE run_id = c->>1 AND NOT has_inputs
        AND {no_requested};
    WHEN 'U' THEN  -- AbortUpdates: [run_id, failure]
      UPDATE {s}.update_requests SET status = 'aborted', failure = c->>2
        WHERE run_id = c->>1 AND status IN ('requested', 'accepted');
    WHEN 'Q' THEN  -- RequestActivityCancel: [run_id, scheduled_event_id]
      UPDATE {s}.activity_tasks SET cancel_requested = true
        WHERE run_id = c->>1 AND scheduled_event_id = (c->>2)::integer
        RETURNING task_queue INTO v_queue;
      IF FOUND THEN
        v_queues := v_queues || v_queue;
      END IF;
    WHEN 'T' THEN  -- InsertTimer: the row's columns
      INSERT INTO {s}.timers ({timer_columns}) VALUES ({_row(tables, "timers", timers)});
    WHEN 't' THEN  -- DeleteTimer: [run_id, started_event_id]
      DELETE FROM {s}.timers WHERE run_id = c->>1 AND started_event_id = (c->>2)::integer;
    WHEN 'u' THEN  -- InsertUpdate: the row's columns
      INSERT INTO {s}.update_requests ({update_columns})
        VALUES ({_row(tables, "update_requests", updates)});
    WHEN 'a' THEN  -- AcceptUpdate: [run_id, update_id, name, args, time]
      INSERT INTO {s}.update_requests (run_id, update_id, name, args, status, requested_at)
        VALUES (c->>1, c->>2, c->>3, c->>4, 'accepted', (c->>5)::timestamptz)
        ON CONFLICT (run_id, update_id) DO UPDATE SET status = 'accepted';
    WHEN 'p' THEN  -- CompleteUpdate: [run_id, update_id, result, failure]
      UPDATE {s}.update_requests SET status = 'completed', result = c->>3, failure = c->>4
        WHERE run_id = c->>1 AND update_id = c->>2;
    WHEN 'j' THEN  -- RejectUpdate: [run_id, update_id, failure]
      UPDATE {s}.update_requests SET status = 'rejected', failure = c->>3
        WHERE run_id = c->>1 AND update_id = c->>2;
    END CASE;
  END LOOP;
  RETURN v_queues;
END $$"""


def commit_checked_sql(schema: str) -> str:
    """``CREATE OR REPLACE FUNCTION`` of ``commit_checked`` in ``schema``."""
    s = schema
    return f"""CREATE OR REPLACE FUNCTION {s}.commit_checked(p_heads jsonb, p_changes jsonb,
    p_channel text, p_payload text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  h jsonb;
  v_status text;
  v_last integer;
  v_inputs boolean;
  v_attempt integer;
  v_queues text[];
BEGIN
  -- [run_id, status, last_event_id, has_inputs, task_attempt], or [run_id]: no such run
  FOR h IN SELECT value FROM jsonb_array_elements(p_heads) ORDER BY value->>0 LOOP
    SELECT r.status, r.last_event_id, w.has_inputs, r.task_attempt
      INTO v_status, v_last, v_inputs, v_attempt
      FROM {s}.runs AS r LEFT JOIN {s}.workflow_tasks AS w ON w.run_id = r.run_id
      WHERE r.run_id = h->>0 FOR UPDATE OF r;
    IF FOUND <> (jsonb_array_length(h) > 1)
        OR (FOUND AND (v_status IS DISTINCT FROM h->>1
          OR v_last IS DISTINCT FROM (h->>2)::integer
          -- a planned "false" also stands for a row that a finished task deleted
          OR (CASE WHEN (h->>3)::boolean IS FALSE THEN COALESCE(v_inputs, false)
              ELSE v_inputs END) IS DISTINCT FROM (h->>3)::boolean
          OR v_attempt IS DISTINCT FROM (h->>4)::integer)) THEN
      RAISE EXCEPTION USING ERRCODE = '{HEAD_MOVED}',
        MESSAGE = 'replay: the head of run ' || (h->>0) || ' moved since it was read';
    END IF;
  END LOOP;
  v_queues := {s}.apply_changes(p_changes);
  IF p_payload IS NOT NULL THEN
    PERFORM pg_notify(p_channel, p_payload);
  END IF;
  RETURN v_queues;
END $$"""
