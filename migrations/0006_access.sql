-- Just-in-time access: the policy set (versioned data), access requests with their reviews, and grants
-- (a temporary account on one asset, driven by the grant state machine). Every state is written before
-- and after each outside effect, so a restart finds in-flight work in these rows.

CREATE TABLE access_policy_sets (
  version      integer PRIMARY KEY CHECK (version > 0),
  -- the policy set as it was written (durations as text), validated when stored
  document     jsonb NOT NULL,
  checksum     text NOT NULL,
  created_at   timestamptz NOT NULL,
  created_by   text NOT NULL,
  comment      text NOT NULL DEFAULT ''
);

CREATE TABLE access_requests (
  id                 uuid PRIMARY KEY,
  requester_id       uuid NOT NULL REFERENCES operators(id),
  requester_username text NOT NULL,
  asset_id           uuid NOT NULL REFERENCES assets(id),
  asset_name         text NOT NULL,
  level              text NOT NULL CHECK (level IN ('read-only', 'read-write', 'admin')),
  duration_ms        bigint NOT NULL CHECK (duration_ms > 0),
  reason             text NOT NULL,
  ticket             text,
  file_transfer      boolean NOT NULL,
  break_glass        boolean NOT NULL,
  status             text NOT NULL CHECK (status IN
                       ('pending-approval', 'approved', 'issued', 'denied', 'cancelled', 'expired')),
  -- frozen at creation: the governing policy, the version of the set it came from, the grant's terms,
  -- who must approve, and whether a ticket's close revokes
  policy             text NOT NULL,
  policy_version     integer NOT NULL,
  terms              jsonb NOT NULL,
  approvals          jsonb NOT NULL,
  on_ticket_close    text NOT NULL CHECK (on_ticket_close IN ('revoke', 'keep')),
  review_deadline    timestamptz,
  auto_approved      boolean NOT NULL,
  -- null for ordinary requests; for break-glass, where its review afterwards stands
  post_review        text CHECK (post_review IN ('pending', 'accepted', 'rejected')),
  decided_at         timestamptz,
  issued_at          timestamptz,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  CHECK (post_review IS NULL OR break_glass)
);
CREATE INDEX access_requests_requester ON access_requests (requester_id, id);
CREATE INDEX access_requests_open ON access_requests (status) WHERE status IN ('pending-approval', 'approved', 'issued');
CREATE INDEX access_requests_ticket ON access_requests (ticket) WHERE ticket IS NOT NULL;

CREATE TABLE access_reviews (
  request_id        uuid NOT NULL REFERENCES access_requests(id),
  reviewer_id       uuid NOT NULL REFERENCES operators(id),
  reviewer_username text NOT NULL,
  verdict           text NOT NULL CHECK (verdict IN ('approve', 'deny')),
  comment           text NOT NULL,
  -- the reviewer's groups that gave them a say, as they were when they reviewed
  counted_for       text[] NOT NULL,
  after_decision    boolean NOT NULL,
  reviewed_at       timestamptz NOT NULL,
  -- a reviewer counts once
  PRIMARY KEY (request_id, reviewer_id)
);

CREATE TABLE access_grants (
  id                 uuid PRIMARY KEY,
  request_id         uuid NOT NULL UNIQUE REFERENCES access_requests(id),
  asset_id           uuid NOT NULL REFERENCES assets(id),
  holder_id          uuid NOT NULL REFERENCES operators(id),
  account_name       text NOT NULL CHECK (account_name ~ '^gh_[a-z0-9_]+$'),
  level              text NOT NULL CHECK (level IN ('read-only', 'read-write', 'admin')),
  status             text NOT NULL CHECK (status IN
                       ('pending', 'provisioning', 'active', 'revoking', 'revoked', 'failed', 'revocation_failed')),
  duration_ms        bigint NOT NULL CHECK (duration_ms > 0),
  max_duration_ms    bigint NOT NULL CHECK (max_duration_ms > 0),
  lease_started_at   timestamptz,
  not_after          timestamptz,
  claim_deadline     timestamptz,
  -- the temporary password, sealed with the master key (bound to the grant id); kept only until it is
  -- revealed or the grant ends
  sealed_password    text,
  revealed_at        timestamptz,
  revealed_by        uuid REFERENCES operators(id),
  revealed_by_name   text,
  end_reason         text,
  provision_attempts integer NOT NULL DEFAULT 0,
  revoke_attempts    integer NOT NULL DEFAULT 0,
  last_error         text,
  -- raised when revocation failed past the limit; cleared when it finally succeeds
  revocation_failed  boolean NOT NULL DEFAULT false,
  ended_at           timestamptz,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  CHECK ((lease_started_at IS NULL) = (not_after IS NULL)),
  CHECK (not_after IS NOT NULL OR claim_deadline IS NOT NULL),
  CHECK (sealed_password IS NULL OR (revealed_at IS NULL AND status IN ('pending', 'provisioning', 'active'))),
  CHECK ((revealed_at IS NULL) = (revealed_by IS NULL)),
  CHECK ((ended_at IS NULL) = (status NOT IN ('revoked', 'failed')))
);
-- one live grant per account name on an asset
CREATE UNIQUE INDEX access_grants_live_account ON access_grants (asset_id, account_name)
  WHERE status NOT IN ('revoked', 'failed');
CREATE INDEX access_grants_live ON access_grants (status) WHERE status NOT IN ('revoked', 'failed');
CREATE INDEX access_grants_holder ON access_grants (holder_id, id);
