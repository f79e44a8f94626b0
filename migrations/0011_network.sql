-- Network: customer rules (system rules live in rules/system/*.yaml), and staged rollouts of the
-- compiled rules to each asset's layers with per-asset results.

CREATE TABLE network_rules (
  id              uuid PRIMARY KEY,
  customer_id     uuid NOT NULL REFERENCES customers(id),
  environment_id  uuid NOT NULL,
  scope_type      text NOT NULL CHECK (scope_type IN ('machine-type', 'asset-group', 'asset')),
  scope_name      text NOT NULL,
  protocol        text NOT NULL CHECK (protocol IN ('tcp', 'udp', 'icmp')),
  port_from       integer CHECK (port_from BETWEEN 1 AND 65535),
  port_to         integer CHECK (port_to BETWEEN 1 AND 65535),
  source          text NOT NULL,
  description     text NOT NULL,
  owner           text NOT NULL,
  ticket          text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  FOREIGN KEY (environment_id, customer_id) REFERENCES environments(id, customer_id),
  CHECK ((protocol = 'icmp') = (port_from IS NULL AND port_to IS NULL)),
  CHECK (port_from IS NULL OR port_from <= port_to)
);
CREATE INDEX network_rules_environment ON network_rules (environment_id);

CREATE TABLE network_rollouts (
  id                 uuid PRIMARY KEY,
  state              text NOT NULL CHECK (state IN ('running', 'stopped', 'completed')),
  -- what was asked: filters, waves, failure threshold; and the brake's verdict at the start
  request            jsonb NOT NULL,
  waves              integer NOT NULL CHECK (waves >= 1),
  current_wave       integer NOT NULL DEFAULT 0,
  failure_threshold  double precision NOT NULL,
  stop_reason        text,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);

CREATE TABLE network_rollout_targets (
  rollout_id   uuid NOT NULL REFERENCES network_rollouts(id) ON DELETE CASCADE,
  asset_id     uuid NOT NULL,
  asset_name   text NOT NULL,
  layer        text NOT NULL CHECK (layer IN ('cloud', 'host')),
  wave         integer NOT NULL,
  state        text NOT NULL CHECK (state IN ('pending', 'queued', 'succeeded', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  -- what the last run did: adds, removals, unknown removed, verified
  result       jsonb,
  error        text,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (rollout_id, asset_id, layer)
);
CREATE INDEX network_rollout_targets_wave ON network_rollout_targets (rollout_id, wave, state);
