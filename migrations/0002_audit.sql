-- The audit log: append-only and hash-chained. Each event's hash covers its canonical encoding, which
-- includes its predecessor's hash; checkpoints sign the head of the chain with Ed25519.

CREATE TABLE audit_events (
  seq          bigint PRIMARY KEY CHECK (seq > 0),
  id           uuid NOT NULL UNIQUE,
  occurred_at  timestamptz NOT NULL,
  actor_type   text NOT NULL CHECK (actor_type IN ('operator', 'token', 'system')),
  actor_id     text,
  actor_name   text NOT NULL,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  ticket       text,
  details      jsonb NOT NULL DEFAULT '{}',
  request_id   text,
  source_ip    text,
  prev_hash    text NOT NULL,
  hash         text NOT NULL UNIQUE
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, seq);

CREATE TABLE audit_checkpoints (
  seq          bigint PRIMARY KEY REFERENCES audit_events(seq),
  hash         text NOT NULL,
  created_at   timestamptz NOT NULL,
  key_id       text NOT NULL,
  signature    text NOT NULL
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
