-- The audit chain is sealed after commit instead of under a lock held until commit (decision 0015).
--
-- An audited transaction inserts its events with seq, prev_hash and hash NULL: the event's content is
-- written, and refused, with the change it records. One sealer at a time (an advisory transaction lock,
-- cluster-wide) later gives the committed unsealed events, in the order they were appended, the next
-- sequence numbers and chains their hashes. Sealing is the one UPDATE the log accepts: it sets the three
-- chain columns of an unsealed event once and changes nothing else; everything else stays refused, and
-- so does every DELETE, so an event cannot be removed or altered before it is sealed either.

ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_seq_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_id_key;
ALTER TABLE audit_events ADD PRIMARY KEY (id);
ALTER TABLE audit_events
  ALTER COLUMN seq DROP NOT NULL,
  ALTER COLUMN prev_hash DROP NOT NULL,
  ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_seq_key UNIQUE (seq);
ALTER TABLE audit_events
  ADD CONSTRAINT audit_events_sealed_together
  CHECK ((seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL));
ALTER TABLE audit_checkpoints
  ADD CONSTRAINT audit_checkpoints_seq_fkey FOREIGN KEY (seq) REFERENCES audit_events (seq);

-- the order events were appended in (by the appending transactions, not their commits): sealing order
ALTER TABLE audit_events ADD COLUMN appended bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX audit_events_unsealed ON audit_events (appended) WHERE seq IS NULL;

CREATE FUNCTION audit_events_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_name, NEW.action,
          NEW.target_type, NEW.target_id, NEW.ticket, NEW.details, NEW.request_id, NEW.source_ip,
          NEW.appended)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_name, OLD.action,
          OLD.target_type, OLD.target_id, OLD.ticket, OLD.details, OLD.request_id, OLD.source_ip,
          OLD.appended)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_seal_only BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_seal_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

-- Wakes the sealers (LISTEN gatehouse_audit) when an appending transaction commits; never for a
-- rollback. On the embedded store nobody listens: its sealer is rung in process.
CREATE FUNCTION audit_events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_audit', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER audit_events_notify_appended AFTER INSERT ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_notify_appended();
