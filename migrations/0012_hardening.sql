-- Hardening: the decisions register (what the organisation decided per rule and scope), scans (one per
-- host and baseline run) and their per-rule results. Baselines themselves are files in baselines/.

CREATE TABLE hardening_decisions (
  id                   uuid PRIMARY KEY,
  baseline             text NOT NULL CHECK (baseline ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  rule_id              text NOT NULL CHECK (rule_id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  scope_type           text NOT NULL CHECK (scope_type IN ('fleet', 'machine-type', 'customer', 'asset')),
  -- null for the fleet; the machine type's, customer's or asset's id otherwise
  scope_id             uuid,
  status               text NOT NULL CHECK (status IN ('enforced', 'not-applicable', 'exception')),
  justification        text NOT NULL DEFAULT '' CHECK (length(justification) <= 2000),
  approver             text,
  expires_at           timestamptz,
  compensating_control text NOT NULL DEFAULT '' CHECK (length(compensating_control) <= 2000),
  author               text NOT NULL,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  CHECK ((scope_type = 'fleet') = (scope_id IS NULL)),
  -- an exception is never without its justification, an approver other than its author, and an expiry
  CHECK (
    status <> 'exception'
    OR (length(btrim(justification)) > 0 AND approver IS NOT NULL AND approver <> author AND expires_at IS NOT NULL)
  ),
  CHECK (status = 'enforced' OR length(btrim(justification)) > 0)
);
-- one decision per rule and scope (the fleet's scope_id is null, so it gets its own index)
CREATE UNIQUE INDEX hardening_decisions_scope ON hardening_decisions (baseline, rule_id, scope_type, scope_id)
  WHERE scope_id IS NOT NULL;
CREATE UNIQUE INDEX hardening_decisions_fleet ON hardening_decisions (baseline, rule_id)
  WHERE scope_id IS NULL;

CREATE TABLE hardening_scans (
  id               uuid PRIMARY KEY,
  asset_id         uuid NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  baseline         text NOT NULL,
  baseline_version text NOT NULL,
  transport        text NOT NULL,
  state            text NOT NULL CHECK (state IN ('completed', 'failed')),
  error            text,
  started_at       timestamptz NOT NULL,
  finished_at      timestamptz NOT NULL,
  -- counts per final result: {pass, fail, error, notapplicable, notchecked, exception}
  counts           jsonb NOT NULL,
  score            numeric(4, 1),
  -- rules whose result changed since the previous completed scan of this asset and baseline
  drift            jsonb NOT NULL DEFAULT '[]',
  actor            text NOT NULL
);
CREATE INDEX hardening_scans_asset ON hardening_scans (asset_id, baseline, started_at DESC);

CREATE TABLE hardening_results (
  scan_id    uuid NOT NULL REFERENCES hardening_scans(id) ON DELETE CASCADE,
  rule_id    text NOT NULL,
  -- the check's own result, and the result once the governing decision is applied
  checked    text NOT NULL CHECK (checked IN ('pass', 'fail', 'error', 'notapplicable', 'notchecked')),
  result     text NOT NULL CHECK (result IN ('pass', 'fail', 'error', 'notapplicable', 'notchecked', 'exception')),
  decision   text NOT NULL CHECK (decision IN ('enforced', 'not-applicable', 'exception', 'exception-expired')),
  decision_id uuid,
  observed   text NOT NULL,
  expected   text NOT NULL,
  PRIMARY KEY (scan_id, rule_id)
);
