-- Appends no longer NOTIFY the sealers (decision 0015). A transaction that sends NOTIFY holds
-- PostgreSQL's notification queue lock from its pre-commit through its commit record's WAL flush, so
-- such commits run one at a time instead of sharing WAL flushes; at 50 grants at once, sampling
-- pg_stat_activity showed commits waiting on it (`Lock:object`) more than on anything else. The sealer
-- of the appending process is rung in process, a timer is the backstop, and readers seal what waits.
DROP TRIGGER audit_events_notify_appended ON audit_events;
DROP FUNCTION audit_events_notify_appended();
