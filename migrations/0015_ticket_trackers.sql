-- Ticket trackers (Jira, ServiceNow) managed through the API. Each routes the refs of its keys (Jira
-- project keys; ServiceNow INC / CHG) before the built-in tracker. The credential (Jira API token or
-- personal access token, ServiceNow password) is sealed with the master key (SecretBox); the context
-- is the row's id, so a sealed value copied to another row does not open.

CREATE TABLE ticket_trackers (
  id             uuid PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{0,62}$'),
  kind           text NOT NULL CHECK (kind IN ('jira', 'servicenow')),
  base_url       text NOT NULL,
  -- Jira Cloud: the account's email; ServiceNow: the integration user; null for a Jira personal access token
  username       text,
  secret_sealed  text NOT NULL,
  -- the refs it routes: Jira project keys (OPS claims OPS-42), ServiceNow number prefixes (INC, CHG)
  ref_keys       jsonb NOT NULL,
  -- kind-specific options, e.g. {"apiVersion": 3} for Jira
  options        jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  CHECK (kind = 'jira' OR username IS NOT NULL)
);
