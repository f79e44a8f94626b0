-- Inventory: where things are (regions), whose they are (customers, environments) and what they are
-- (assets: servers and databases; machine types; asset groups; jumpboxes).

CREATE TABLE regions (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  display_name  text NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE customers (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  display_name  text NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE environments (
  id            uuid PRIMARY KEY,
  customer_id   uuid NOT NULL REFERENCES customers(id),
  name          text NOT NULL,
  tier          text NOT NULL CHECK (tier IN ('production', 'staging', 'development', 'test')),
  region_id     uuid NOT NULL REFERENCES regions(id),
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  UNIQUE (customer_id, name),
  UNIQUE (id, customer_id)
);

CREATE TABLE machine_types (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  description   text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE assets (
  id               uuid PRIMARY KEY,
  name             text NOT NULL UNIQUE,
  kind             text NOT NULL CHECK (kind IN ('server', 'database')),
  customer_id      uuid REFERENCES customers(id),
  environment_id   uuid,
  region_id        uuid NOT NULL REFERENCES regions(id),
  machine_type_id  uuid REFERENCES machine_types(id),
  os               text,
  address          inet,
  engine           text CHECK (engine IN ('postgres', 'mysql', 'mariadb', 'mssql', 'oracle')),
  host             text,
  port             integer CHECK (port BETWEEN 1 AND 65535),
  -- sealed with the master key (AES-256-GCM), bound to this asset's id
  admin_credential text,
  labels           jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  -- an environment belongs to one customer: the asset's customer must be it
  FOREIGN KEY (environment_id, customer_id) REFERENCES environments(id, customer_id),
  CHECK (environment_id IS NULL OR customer_id IS NOT NULL),
  CHECK (
    (kind = 'server' AND os IS NOT NULL AND address IS NOT NULL AND engine IS NULL AND host IS NULL AND port IS NULL)
    OR (kind = 'database' AND engine IS NOT NULL AND host IS NOT NULL AND port IS NOT NULL)
  )
);
CREATE INDEX assets_customer ON assets (customer_id);
CREATE INDEX assets_environment ON assets (environment_id);

CREATE TABLE asset_groups (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  description   text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE asset_group_members (
  asset_group_id uuid NOT NULL REFERENCES asset_groups(id) ON DELETE CASCADE,
  asset_id       uuid NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  PRIMARY KEY (asset_group_id, asset_id)
);
CREATE INDEX asset_group_members_asset ON asset_group_members (asset_id);

CREATE TABLE jumpboxes (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  region_id     uuid NOT NULL REFERENCES regions(id),
  address       inet NOT NULL,
  -- the addresses a jumpbox's connections come from, as targets see them
  source_cidrs  cidr[] NOT NULL CHECK (cardinality(source_cidrs) > 0),
  description   text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
