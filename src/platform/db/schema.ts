import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Row types of every table, as Kysely sees them. One schema for PostgreSQL and PGlite; the SQL that
 * creates it lives in `migrations/`. Timestamps are written as Date and read as Date.
 */
type Timestamp = ColumnType<Date, Date, Date>;
type Json = ColumnType<unknown, string, string>;

export interface OperatorsTable {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  groups: string[];
  roles: string[];
  active: Generated<boolean>;
  /** Customers the operator is scoped to; empty: all. */
  customer_ids: Generated<string[]>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OperatorCredentialsTable {
  operator_id: string;
  password_hash: string | null;
  totp_seed_sealed: string | null;
  totp_pending_sealed: string | null;
  totp_enrolled_at: Timestamp | null;
  totp_last_step: ColumnType<string | null, number | null, number | null>;
  failed_attempts: Generated<number>;
  retry_after: Timestamp | null;
  locked_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface RecoveryCodesTable {
  id: string;
  operator_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  operator_id: string;
  secret_hash: string;
  csrf_hash: string;
  stage: 'mfa' | 'active';
  method: 'password' | 'oidc';
  source_ip: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface ApiTokensTable {
  id: string;
  operator_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  roles: string[];
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobsTable {
  id: string;
  kind: string;
  payload: Json;
  state: JobState;
  attempts: Generated<number>;
  max_attempts: number;
  run_at: Timestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

/** seq, prev_hash and hash are NULL until the sealer chains the event (migration 0017, decision 0015). */
export interface AuditEventsTable {
  seq: number | null;
  id: string;
  occurred_at: Timestamp;
  actor_type: 'operator' | 'token' | 'system';
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ticket: string | null;
  details: Json;
  request_id: string | null;
  source_ip: string | null;
  prev_hash: string | null;
  hash: string | null;
  /** Append order: the order the sealer chains events in. */
  appended: Generated<number>;
}

export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  created_at: Timestamp;
  key_id: string;
  signature: string;
}

export interface RegionsTable {
  id: string;
  name: string;
  display_name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CustomersTable {
  id: string;
  name: string;
  display_name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type EnvironmentTier = 'production' | 'staging' | 'development' | 'test';

export interface EnvironmentsTable {
  id: string;
  customer_id: string;
  name: string;
  tier: EnvironmentTier;
  region_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MachineTypesTable {
  id: string;
  name: string;
  description: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type AssetKind = 'server' | 'database';
export type DatabaseEngine = 'postgres' | 'mysql' | 'mariadb' | 'mssql' | 'oracle';

export interface AssetsTable {
  id: string;
  name: string;
  kind: AssetKind;
  customer_id: string | null;
  environment_id: string | null;
  region_id: string;
  machine_type_id: string | null;
  os: string | null;
  address: string | null;
  engine: DatabaseEngine | null;
  host: string | null;
  port: number | null;
  admin_credential: string | null;
  labels: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Servers (migration 0010): NULL = 22. */
  ssh_port: Generated<number | null>;
  /** Servers: the automation account and private key, sealed, bound to `asset:<id>:automation`. */
  automation_credential: Generated<string | null>;
  /** Servers: recorded host key lines, a JSON array. */
  host_keys: ColumnType<unknown, string | undefined, string>;
}

export interface AssetGroupsTable {
  id: string;
  name: string;
  description: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AssetGroupMembersTable {
  asset_group_id: string;
  asset_id: string;
}

export interface JumpboxesTable {
  id: string;
  name: string;
  region_id: string;
  address: string;
  source_cidrs: ColumnType<string[], string[], string[]>;
  description: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** bigint comes back as text from node-postgres. */
type BigIntColumn = ColumnType<string | number, number, number>;

export type AccessLevel = 'read-only' | 'read-write' | 'admin';
export type AccessRequestStatus =
  'pending-approval' | 'approved' | 'issued' | 'denied' | 'cancelled' | 'expired';

export interface AccessPolicySetsTable {
  version: number;
  document: Json;
  checksum: string;
  created_at: Timestamp;
  created_by: string;
  comment: string;
}

export interface AccessRequestsTable {
  id: string;
  requester_id: string;
  requester_username: string;
  asset_id: string;
  asset_name: string;
  level: AccessLevel;
  duration_ms: BigIntColumn;
  reason: string;
  ticket: string | null;
  file_transfer: boolean;
  break_glass: boolean;
  status: AccessRequestStatus;
  policy: string;
  policy_version: number;
  terms: Json;
  approvals: Json;
  on_ticket_close: 'revoke' | 'keep';
  review_deadline: Timestamp | null;
  auto_approved: boolean;
  post_review: 'pending' | 'accepted' | 'rejected' | null;
  decided_at: Timestamp | null;
  issued_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AccessReviewsTable {
  request_id: string;
  reviewer_id: string;
  reviewer_username: string;
  verdict: 'approve' | 'deny';
  comment: string;
  counted_for: string[];
  after_decision: boolean;
  reviewed_at: Timestamp;
}

export interface AccessGrantsTable {
  id: string;
  request_id: string;
  asset_id: string;
  holder_id: string;
  account_name: string;
  level: AccessLevel;
  status: string;
  duration_ms: BigIntColumn;
  max_duration_ms: BigIntColumn;
  lease_started_at: Timestamp | null;
  not_after: Timestamp | null;
  claim_deadline: Timestamp | null;
  sealed_password: string | null;
  revealed_at: Timestamp | null;
  revealed_by: string | null;
  revealed_by_name: string | null;
  end_reason: string | null;
  provision_attempts: number;
  revoke_attempts: number;
  last_error: string | null;
  revocation_failed: boolean;
  ended_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AccessExtensionsTable {
  id: string;
  grant_id: string;
  requester_id: string;
  requester_username: string;
  reason: string;
  status: 'pending-approval' | 'approved' | 'denied' | 'cancelled' | 'expired';
  policy: string;
  policy_version: number;
  from_not_after: Timestamp;
  not_after: Timestamp;
  max_duration_ms: BigIntColumn;
  capped: boolean;
  approvals: Json;
  review_deadline: Timestamp | null;
  auto_approved: boolean;
  break_glass: boolean;
  decided_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AccessExtensionReviewsTable {
  extension_id: string;
  reviewer_id: string;
  reviewer_username: string;
  verdict: 'approve' | 'deny';
  comment: string;
  counted_for: string[];
  reviewed_at: Timestamp;
}

export interface Database {
  operators: OperatorsTable;
  api_tokens: ApiTokensTable;
  operator_credentials: OperatorCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  jobs: JobsTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  regions: RegionsTable;
  customers: CustomersTable;
  environments: EnvironmentsTable;
  machine_types: MachineTypesTable;
  assets: AssetsTable;
  asset_groups: AssetGroupsTable;
  asset_group_members: AssetGroupMembersTable;
  jumpboxes: JumpboxesTable;
  access_policy_sets: AccessPolicySetsTable;
  access_requests: AccessRequestsTable;
  access_reviews: AccessReviewsTable;
  access_grants: AccessGrantsTable;
  access_extensions: AccessExtensionsTable;
  access_extension_reviews: AccessExtensionReviewsTable;
  network_rules: NetworkRulesTable;
  network_rollouts: NetworkRolloutsTable;
  network_rollout_targets: NetworkRolloutTargetsTable;
}

export interface NetworkRulesTable {
  id: string;
  customer_id: string;
  environment_id: string;
  scope_type: 'machine-type' | 'asset-group' | 'asset';
  scope_name: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  port_from: number | null;
  port_to: number | null;
  source: string;
  description: string;
  owner: string;
  ticket: string | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NetworkRolloutsTable {
  id: string;
  state: 'running' | 'stopped' | 'completed';
  request: Json;
  waves: number;
  current_wave: Generated<number>;
  failure_threshold: number;
  stop_reason: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NetworkRolloutTargetsTable {
  rollout_id: string;
  asset_id: string;
  asset_name: string;
  layer: 'cloud' | 'host';
  wave: number;
  state: 'pending' | 'queued' | 'succeeded' | 'failed';
  attempts: Generated<number>;
  result: Json | null;
  error: string | null;
  updated_at: Timestamp;
}

export type Row<T extends keyof Database> = Selectable<Database[T]>;
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
