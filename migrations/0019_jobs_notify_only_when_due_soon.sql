-- A queued job wakes the runners (NOTIFY gatehouse_jobs, migration 0007) only when it is due within a
-- minute. A runner never sleeps longer than its poll interval (500 ms by default) nor past the next due
-- job it read from this table, so a job due later is claimed on time without being heard of; and a
-- notifying transaction holds PostgreSQL's notification queue lock through its commit's WAL flush, so
-- every NOTIFY saved is a commit that no longer runs one at a time with the others (decision 0015) —
-- e.g. a grant's activation, which queues the lease reaper for the end of the lease.
DROP TRIGGER jobs_notify_queued ON jobs;
CREATE TRIGGER jobs_notify_queued AFTER INSERT OR UPDATE OF state, run_at ON jobs
  FOR EACH ROW WHEN (NEW.state = 'queued' AND NEW.run_at <= now() + interval '1 minute')
  EXECUTE FUNCTION jobs_notify_queued();
