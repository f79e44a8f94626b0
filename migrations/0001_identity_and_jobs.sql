-- Operators (one per person), their API tokens, and the durable job queue.

CREATE TABLE operators (
  id            uuid PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z][a-z0-9._-]{1,62}$'),
  display_name  text NOT NULL,
  email         text,
  groups        text[] NOT NULL DEFAULT '{}',
  roles         text[] NOT NULL DEFAULT '{}',
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY,
  operator_id   uuid NOT NULL REFERENCES operators(id),
  name          text NOT NULL,
  token_hash    text NOT NULL UNIQUE,
  -- the first characters, so an operator can tell tokens apart without the secret
  token_prefix  text NOT NULL,
  roles         text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  last_used_at  timestamptz,
  UNIQUE (operator_id, name)
);

CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  kind          text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  -- queued → running → succeeded | failed; running jobs past locked_until are reclaimed
  state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL,
  run_at        timestamptz NOT NULL,
  locked_by     text,
  locked_until  timestamptz,
  last_error    text,
  -- at most one queued or running job per key (e.g. "revoke:<grant id>")
  dedupe_key    text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  finished_at   timestamptz
);
CREATE INDEX jobs_claimable ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_state_kind ON jobs (state, kind);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
