-- What an outbox entry is for: 'case' (a case notification), 'ops' (an
-- operations alert) or 'reassurance' (the daily "day has started" message).
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'case';
-- 1 once an entry has failed for good, until the processor has recorded it
-- in the case's audit trail, escalated and raised the ops alert.
ALTER TABLE outbox ADD COLUMN failure_pending BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_failure_pending ON outbox(failure_pending);
