"""The PostgreSQL store's longer statements, by name (``_postgres.py`` runs them)."""

from __future__ import annotations

from ._postgres_rows import ACTIVITY_COLUMNS, RUN_COLUMNS, TIMER_COLUMNS, UPDATE_COLUMNS

POLLERS_WITHIN = 2
"""Seconds since its last poll within which a worker counts as polling its task queue."""

LOCK_RUNS = "SELECT 1 FROM runs WHERE run_id = ANY(%s) ORDER BY run_id FOR UPDATE"
NOTIFY = "SELECT pg_notify(%s, %s)"

READ = "SELECT data FROM events WHERE run_id = %s AND event_id > %s ORDER BY event_id"
RUN_EXISTS = "SELECT 1 FROM events WHERE run_id = %s LIMIT 1"
LAST_EVENT_ID = "SELECT max(event_id) FROM events WHERE run_id = %s"
GET_RUN = f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = %s"

_FREE_WORKFLOW_TASK = ("task_queue = %(q)s AND (lease_expires_at IS NULL OR "
                       "lease_expires_at <= %(now)s)")
_OTHER_POLLERS = (
    "SELECT count(*) FROM query_pollers WHERE task_queue = %(q)s AND worker <> %(owner)s "
    f"AND polled_at >= clock_timestamp() - interval '{POLLERS_WITHIN} seconds'")
LEASE_WORKFLOW_TASKS = (
    # A fair share: of the free tasks, no more than this worker's part among the workers
    # that polled the queue lately (the others are woken by the same NOTIFY), so that
    # runs started together spread over the workers instead of all going to the first.
    "UPDATE workflow_tasks AS w SET lease_owner = %(owner)s, lease_expires_at = %(expires)s "
    f"FROM (SELECT run_id FROM workflow_tasks WHERE {_FREE_WORKFLOW_TASK} ORDER BY seq "
    f"LIMIT least(%(limit)s, (SELECT ceil(count(*)::numeric / (1 + ({_OTHER_POLLERS}))) "
    f"FROM workflow_tasks WHERE {_FREE_WORKFLOW_TASK})::integer) "
    "FOR UPDATE SKIP LOCKED) AS free WHERE w.run_id = free.run_id RETURNING w.seq, w.run_id, "
    "EXISTS (SELECT 1 FROM update_requests AS u WHERE u.run_id = w.run_id "
    "AND u.status = 'requested')")
RELEASE_WORKFLOW_TASK = (
    "UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = NULL "
    "WHERE run_id = %s AND lease_owner = %s RETURNING task_queue")

LEASE_ACTIVITY_TASKS = (
    "UPDATE activity_tasks AS a SET attempt = a.attempt + 1, lease_owner = %(owner)s, "
    "lease_expires_at = %(now)s + COALESCE(a.lease_span, %(default)s) FROM (SELECT "
    "run_id, scheduled_event_id FROM activity_tasks WHERE task_queue = %(q)s AND "
    "available_at <= %(now)s AND (lease_expires_at IS NULL OR lease_expires_at <= "
    "%(now)s) ORDER BY available_at, run_id, scheduled_event_id LIMIT %(limit)s "
    "FOR UPDATE SKIP LOCKED) AS free WHERE a.run_id = free.run_id AND "
    "a.scheduled_event_id = free.scheduled_event_id RETURNING "
    + ", ".join(f"a.{c.strip()}" for c in ACTIVITY_COLUMNS.split(",")))
UPDATE_ACTIVITY = (
    "UPDATE activity_tasks SET {sets} WHERE run_id = %(run_id)s AND "
    "scheduled_event_id = %(sid)s AND lease_owner = %(owner)s RETURNING task_queue")
HEARTBEAT_SETS = ("heartbeat_details = %(details)s, last_heartbeat_at = %(now)s, "
                  "lease_expires_at = %(expires)s")
HAND_OVER_SETS = "lease_owner = %(new_owner)s, lease_expires_at = %(until)s"
RETRY_SETS = ("lease_owner = NULL, lease_expires_at = NULL, available_at = %(at)s, "
              "last_failure = %(failure)s")
RELEASE_SETS = ("lease_owner = NULL, lease_expires_at = NULL, "
                "attempt = greatest(attempt - 1, 0)")
PENDING_ACTIVITIES = (f"SELECT {ACTIVITY_COLUMNS} FROM activity_tasks WHERE run_id = %s "
                      "ORDER BY scheduled_event_id")
GET_ACTIVITY = (f"SELECT {ACTIVITY_COLUMNS} FROM activity_tasks WHERE run_id = %s "
                "AND scheduled_event_id = %s AND lease_owner IS NOT NULL")
CANCEL_REQUESTED = ("SELECT run_id, scheduled_event_id FROM activity_tasks WHERE "
                    "lease_owner = %s AND cancel_requested ORDER BY run_id, scheduled_event_id")

DUE_TIMERS = (f"SELECT {TIMER_COLUMNS} FROM timers WHERE fire_at <= %s "
              "ORDER BY fire_at, run_id, started_event_id LIMIT %s")
NEXT_TIMER_AT = (
    "SELECT least((SELECT min(fire_at) FROM timers), (SELECT min(deadline) FROM runs "
    "WHERE status = 'running'), (SELECT min(task_retry_at) FROM runs WHERE task_attempt > 0))")
EXPIRED_RUNS = (f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'running' AND deadline <= %s "
                "ORDER BY deadline, run_id LIMIT %s")

LEASE_OWNERS = ("SELECT lease_owner FROM workflow_tasks WHERE lease_owner IS NOT NULL UNION "
                "SELECT lease_owner FROM activity_tasks WHERE lease_owner IS NOT NULL")
RELEASE_LEASES = (
    "WITH w AS (UPDATE workflow_tasks SET lease_owner = NULL, lease_expires_at = NULL "
    "WHERE lease_owner = %(o)s RETURNING task_queue), a AS (UPDATE activity_tasks SET "
    "lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = %(o)s RETURNING "
    "task_queue) SELECT task_queue FROM w UNION ALL SELECT task_queue FROM a")
BEAT_WORKER = (
    "INSERT INTO workers (identity, started_at, last_beat, grace) VALUES (%(i)s, "
    "clock_timestamp(), clock_timestamp(), %(g)s) ON CONFLICT (identity) DO UPDATE "
    "SET last_beat = clock_timestamp(), grace = %(g)s RETURNING 1")
RETIRE_WORKER = "DELETE FROM workers WHERE identity = %s RETURNING 1"
DEAD_WORKERS = "SELECT identity FROM workers WHERE last_beat + grace < clock_timestamp()"

PENDING_UPDATES = (f"SELECT {UPDATE_COLUMNS} FROM update_requests WHERE run_id = %s "
                   "AND status = 'requested' ORDER BY requested_at, seq")
GET_UPDATE = f"SELECT {UPDATE_COLUMNS} FROM update_requests WHERE run_id = %s AND update_id = %s"
