-- The SOC 2 workbench: criterion × component cells, areas of concern, gaps, stories, controls and
-- threat models. Criteria come from the catalog file (compliance/catalog/), not from a table: the
-- service checks ids and references against it before anything is written.

CREATE TABLE compliance_areas (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 4000)
);

-- only cells that differ from the default (applicable, not assessed, no notes) are stored
CREATE TABLE compliance_cells (
  criterion    text NOT NULL CHECK (criterion ~ '^(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]$'),
  component    text NOT NULL CHECK (component IN ('infrastructure', 'software', 'people', 'procedures', 'data')),
  applicable   boolean NOT NULL,
  status       text NOT NULL CHECK (status IN ('not-assessed', 'met', 'partially-met', 'not-met')),
  notes        text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
  PRIMARY KEY (criterion, component)
);

CREATE TABLE compliance_gaps (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  criterion    text NOT NULL CHECK (criterion ~ '^(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]$'),
  component    text NOT NULL CHECK (component IN ('infrastructure', 'software', 'people', 'procedures', 'data')),
  area         text NOT NULL REFERENCES compliance_areas(key),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
  status       text NOT NULL CHECK (status IN ('open', 'closed'))
);

CREATE TABLE compliance_stories (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  -- keys of gaps (checked by the service against compliance_gaps)
  gaps         jsonb NOT NULL DEFAULT '[]',
  estimate     integer CHECK (estimate BETWEEN 0 AND 1000),
  priority     text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  state        text NOT NULL CHECK (state IN ('todo', 'in-progress', 'done', 'wont-do')),
  ticket_url   text CHECK (length(ticket_url) <= 500)
);

CREATE TABLE compliance_controls (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
  owner        text NOT NULL CHECK (length(btrim(owner)) BETWEEN 1 AND 100),
  frequency    text NOT NULL,
  mode         text NOT NULL CHECK (mode IN ('automated', 'manual')),
  test         text,
  -- criterion ids (checked by the service against the catalog)
  criteria     jsonb NOT NULL,
  CHECK ((mode = 'automated') = (test IS NOT NULL))
);

CREATE TABLE compliance_threat_models (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  -- assets, entry points, threats and their mitigations
  model        jsonb NOT NULL,
  status       text NOT NULL CHECK (status IN ('draft', 'approved')),
  approved_by  text,
  approved_at  timestamptz,
  updated_at   timestamptz NOT NULL,
  CHECK ((status = 'approved') = (approved_by IS NOT NULL AND approved_at IS NOT NULL))
);

-- the ten areas of concern the seeds aggregated their gaps into; editable
INSERT INTO compliance_areas (key, title) VALUES
  ('architecture', 'Architecture'),
  ('authentication-and-authorization', 'Authentication and authorization'),
  ('auditing', 'Auditing'),
  ('business-continuity-plan', 'Business continuity plan'),
  ('change-management', 'Change management'),
  ('disaster-recovery', 'Disaster recovery'),
  ('hardening', 'Hardening'),
  ('human-resources', 'Human resources'),
  ('monitoring-and-operation', 'Monitoring and operation'),
  ('user-privacy', 'User privacy');

-- the controls Gatehouse tests itself from its audit log; editable like any other
INSERT INTO compliance_controls (key, title, description, owner, frequency, mode, test, criteria) VALUES
  ('access-grants', 'Just-in-time access is ticketed, approved by another person and removed on time',
   'Every grant had a ticket and an approval by someone other than its holder (or was break-glass and reviewed afterwards), and was removed no later than its expiry plus the tolerance.',
   'security-office', 'continuous', 'automated', 'access-grants', '["CC6.1", "CC6.2"]'),
  ('role-changes', 'Roles are given by admins only, never self-granted',
   'Every role set on an operator was set by an admin acting on someone else.',
   'security-office', 'continuous', 'automated', 'role-changes', '["CC6.3"]'),
  ('network-changes', 'Customer network rule changes are ticketed and checked; drift is corrected',
   'Every customer rule change carries a ticket and passed the security checks; every drift found was corrected.',
   'network-office', 'continuous', 'automated', 'network-changes', '["CC6.6"]'),
  ('host-scans', 'In-scope hosts are scanned on schedule and exceptions are current',
   'Every in-scope host was scanned within its frequency and every exception relied on was current.',
   'security-office', 'continuous', 'automated', 'host-scans', '["CC7.1"]'),
  ('change-records', 'System rule and baseline changes name an author and a reviewer',
   'Every change to system network rules or hardening baselines was recorded with an author and a different reviewer.',
   'security-office', 'per-change', 'automated', 'change-records', '["CC8.1"]');
