-- Extensions of running grants: asked for by the holder, decided by the policies again, reviewed like a
-- request when the policy wants approvals. An approved extension moves its grant's lease (the reaper's
-- due time and the target's native expiry); one still pending when the grant ends expires with it.

CREATE TABLE access_extensions (
  id                 uuid PRIMARY KEY,
  grant_id           uuid NOT NULL REFERENCES access_grants(id),
  requester_id       uuid NOT NULL REFERENCES operators(id),
  requester_username text NOT NULL,
  reason             text NOT NULL,
  status             text NOT NULL CHECK (status IN
                       ('pending-approval', 'approved', 'denied', 'cancelled', 'expired')),
  -- frozen when asked: the governing policy, the version of the set it came from, who must approve
  policy             text NOT NULL,
  policy_version     integer NOT NULL,
  from_not_after     timestamptz NOT NULL,
  not_after          timestamptz NOT NULL,
  max_duration_ms    bigint NOT NULL CHECK (max_duration_ms > 0),
  capped             boolean NOT NULL,
  approvals          jsonb NOT NULL,
  review_deadline    timestamptz,
  auto_approved      boolean NOT NULL,
  break_glass        boolean NOT NULL,
  decided_at         timestamptz,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  CHECK (not_after > from_not_after),
  CHECK ((status = 'pending-approval') = (decided_at IS NULL))
);
-- one extension awaiting review per grant at a time
CREATE UNIQUE INDEX access_extensions_one_pending ON access_extensions (grant_id)
  WHERE status = 'pending-approval';
CREATE INDEX access_extensions_grant ON access_extensions (grant_id, id);
CREATE INDEX access_extensions_requester ON access_extensions (requester_id, id);

CREATE TABLE access_extension_reviews (
  extension_id      uuid NOT NULL REFERENCES access_extensions(id),
  reviewer_id       uuid NOT NULL REFERENCES operators(id),
  reviewer_username text NOT NULL,
  verdict           text NOT NULL CHECK (verdict IN ('approve', 'deny')),
  comment           text NOT NULL,
  counted_for       text[] NOT NULL,
  reviewed_at       timestamptz NOT NULL,
  -- a reviewer counts once
  PRIMARY KEY (extension_id, reviewer_id)
);
