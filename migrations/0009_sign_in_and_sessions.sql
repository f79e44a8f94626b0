-- Local sign-in (argon2id password, TOTP, recovery codes), lockout state, server-side sessions, and the
-- customers an operator is scoped to.

-- Customers an operator may see and act on; empty means every customer.
ALTER TABLE operators ADD COLUMN customer_ids uuid[] NOT NULL DEFAULT '{}';

CREATE TABLE operator_credentials (
  operator_id         uuid PRIMARY KEY REFERENCES operators(id),
  -- argon2id PHC string; null: no local password (OIDC only, or not set yet)
  password_hash       text,
  -- the TOTP seed, sealed with the master key and bound to the operator; null until enrolled
  totp_seed_sealed    text,
  -- a seed offered at first sign-in, kept until the operator proves it with a code
  totp_pending_sealed text,
  totp_enrolled_at    timestamptz,
  -- the last accepted TOTP time-step: a code of that step or an earlier one is never accepted again
  totp_last_step      bigint,
  -- consecutive failed passwords or codes; reset by a full sign-in
  failed_attempts     integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  -- no attempt is checked before this time (backoff)
  retry_after         timestamptz,
  -- set when the failures reach the lockout threshold; cleared by an admin
  locked_at           timestamptz,
  updated_at          timestamptz NOT NULL
);

CREATE TABLE recovery_codes (
  id           uuid PRIMARY KEY,
  operator_id  uuid NOT NULL REFERENCES operators(id),
  code_hash    text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL,
  used_at      timestamptz
);
CREATE INDEX recovery_codes_operator ON recovery_codes (operator_id) WHERE used_at IS NULL;

CREATE TABLE sessions (
  id            uuid PRIMARY KEY,
  operator_id   uuid NOT NULL REFERENCES operators(id),
  -- SHA-256 of the cookie's secret; the secret itself is never stored
  secret_hash   text NOT NULL UNIQUE,
  -- SHA-256 of the CSRF token the browser must echo in X-CSRF-Token on state changes
  csrf_hash     text NOT NULL,
  -- 'mfa': password checked, waiting for a TOTP or recovery code; 'active': signed in
  stage         text NOT NULL CHECK (stage IN ('mfa', 'active')),
  method        text NOT NULL CHECK (method IN ('password', 'oidc')),
  source_ip     text,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  -- absolute end; the idle timeout is counted from last_seen_at
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX sessions_operator ON sessions (operator_id) WHERE revoked_at IS NULL;
