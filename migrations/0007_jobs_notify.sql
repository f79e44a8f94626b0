-- A job queued (inserted, or put back in the queue) tells the job runners at once: they LISTEN on
-- gatehouse_jobs, and PostgreSQL delivers the notification when the queuing transaction commits (never
-- for one that rolls back). Sent by the insert or update itself, it costs the enqueuing transaction no
-- round trip of its own. The payload is the job's run time in epoch milliseconds; see
-- src/platform/jobs/job-wakeup.ts. On the embedded store nobody listens and nothing is delivered.
CREATE FUNCTION jobs_notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_jobs', floor(extract(epoch FROM NEW.run_at) * 1000)::bigint::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_queued AFTER INSERT OR UPDATE OF state, run_at ON jobs
  FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION jobs_notify_queued();
