-- Integrations: followers of the audit log. Each follower keeps the `seq` of the last event it has
-- handled and reads the events after it in order, at least once.
--   * audit sinks forward every event to a syslog (RFC 5424) or Splunk HEC receiver;
--   * the notifier turns access events into notifications, delivered per channel with retries and a
--     dead-letter list.
-- Secrets (HEC tokens, SMTP passwords, webhook signing secrets, chat webhook URLs) are sealed with the
-- master key (SecretBox); the context is the row's id.

CREATE TABLE audit_sinks (
  id             uuid PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{0,62}$'),
  kind           text NOT NULL CHECK (kind IN ('syslog', 'splunk-hec')),
  settings       jsonb NOT NULL,
  secret_sealed  text,
  enabled        boolean NOT NULL DEFAULT true,
  -- the seq of the last event the receiver has acknowledged; the next batch starts after it
  cursor_seq     bigint NOT NULL DEFAULT 0 CHECK (cursor_seq >= 0),
  delivered_at   timestamptz,
  -- failures in a row of the current outage (0 when healthy) and the last one's message
  failures       integer NOT NULL DEFAULT 0,
  last_error     text,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

CREATE TABLE notify_channels (
  id             uuid PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{0,62}$'),
  kind           text NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'webhook')),
  settings       jsonb NOT NULL,
  secret_sealed  text,
  -- the notices this channel carries
  notices        text[] NOT NULL,
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- one row per follower that is not a sink (today: 'notifier')
CREATE TABLE audit_followers (
  name        text PRIMARY KEY,
  cursor_seq  bigint NOT NULL DEFAULT 0 CHECK (cursor_seq >= 0),
  updated_at  timestamptz NOT NULL
);

CREATE TABLE notify_deliveries (
  id            uuid PRIMARY KEY,
  channel_id    uuid NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
  -- what made it: 'seq:<n>:<notice>' for an audit event, 'grant-expiring:<grant>:<not-after>' for the check
  dedupe_key    text NOT NULL,
  notice        text NOT NULL,
  recipients    text[] NOT NULL,
  message       jsonb NOT NULL,
  state         text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  delivered_at  timestamptz,
  UNIQUE (channel_id, dedupe_key)
);
CREATE INDEX notify_deliveries_dead ON notify_deliveries (created_at DESC, id DESC) WHERE state = 'dead';

CREATE TABLE notify_preferences (
  operator_id  uuid PRIMARY KEY REFERENCES operators(id) ON DELETE CASCADE,
  -- notices this operator does not want by email
  muted        text[] NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL
);
