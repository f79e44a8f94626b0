-- An event's hash covers its time to the millisecond. Refuse finer times, so that no part of a stored
-- time lies outside what the hash protects.
ALTER TABLE audit_events
  ADD CONSTRAINT audit_events_time_in_milliseconds CHECK (occurred_at = date_trunc('milliseconds', occurred_at));
ALTER TABLE audit_checkpoints
  ADD CONSTRAINT audit_checkpoints_time_in_milliseconds CHECK (created_at = date_trunc('milliseconds', created_at));
