import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { cidr } from './validation.js';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const booleanish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(7070),
    /** PostgreSQL server; when absent Gatehouse runs on embedded PGlite in `dataDir`. */
    databaseUrl: z.string().url().optional(),
    dataDir: z.string().min(1).default('./data'),
    /** File holding the 32-byte master key (base64). Generated on the first embedded run. */
    masterKeyFile: z.string().min(1).optional(),
    /** The master key itself (base64), for platforms that inject secrets as environment. */
    masterKey: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** CIDRs of reverse proxies whose X-Forwarded-For is believed. Empty: the socket address is the client. */
    trustedProxies: z.array(z.string().min(1)).default([]),
    /** A token to register for the first admin on a new store (automation); otherwise one is generated and printed. */
    bootstrapToken: z.string().min(32).optional(),
    bodyLimitBytes: positiveInt.default(1024 * 1024),
    /** Sign-in, sessions and where the back-office may be used from (identity). */
    auth: z
      .object({
        /** Session cookies carry `Secure`; false is accepted only while `host` is a loopback address. */
        cookieSecure: booleanish.default(true),
        sessionIdleMinutes: positiveInt.default(30),
        sessionAbsoluteHours: positiveInt.default(12),
        /** Failed passwords or codes in a row that lock an account until an admin unlocks it. */
        lockoutThreshold: positiveInt.default(20),
        /** Sign-in, second-factor and reveal attempts per minute from one address. */
        rateLimitPerMinute: positiveInt.default(20),
        /** Networks the API may be used from (secret-returning routes: only the inventory's jumpboxes). */
        allowedNetworks: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
        /** Networks that may read /metrics without a token. */
        metricsNetworks: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
        /** Sign-in through an OpenID Connect provider (authorization code with PKCE); absent: off. */
        oidc: z
          .object({
            issuer: z.string().url(),
            clientId: z.string().min(1),
            clientSecret: z.string().min(1),
            /** This server's callback as the IdP sees it: https://gatehouse.example/api/v1/auth/oidc/callback */
            redirectUri: z.string().url(),
            scopes: z.string().default('openid profile email groups'),
            usernameClaim: z.string().min(1).default('preferred_username'),
            groupsClaim: z.string().min(1).default('groups'),
            /** IdP group → Gatehouse roles; the IdP's groups also become the operator's groups. */
            groupRoles: z.record(z.string(), z.array(z.string())).default({}),
            /** Refuse an ID token that does not show a second factor (amr or acr). */
            requireMfa: booleanish.default(true),
            mfaAmr: z.array(z.string()).default(['mfa', 'otp', 'totp', 'hwk', 'swk', 'fpt', 'face']),
            mfaAcr: z.array(z.string()).default([]),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({
        cookieSecure: true,
        sessionIdleMinutes: 30,
        sessionAbsoluteHours: 12,
        lockoutThreshold: 20,
        rateLimitPerMinute: 20,
        allowedNetworks: ['127.0.0.0/8', '::1/128'],
        metricsNetworks: ['127.0.0.0/8', '::1/128'],
      }),
    audit: z
      .object({
        checkpointEvery: positiveInt.default(1000),
        checkpointMinutes: positiveInt.default(10),
        /** Backstop between background sealer turns; appends wake it at once (decision 0015). */
        sealIntervalMs: positiveInt.default(1000),
      })
      .strict()
      .default({ checkpointEvery: 1000, checkpointMinutes: 10, sealIntervalMs: 1000 }),
    compliance: z
      .object({
        removalToleranceMinutes: positiveInt.default(5),
        scanFrequencyHours: positiveInt.default(24),
      })
      .strict()
      .default({ removalToleranceMinutes: 5, scanFrequencyHours: 24 }),
    jobs: z
      .object({
        enabled: booleanish.default(true),
        concurrency: positiveInt.default(4),
        pollMs: positiveInt.default(500),
        maxAttempts: positiveInt.default(8),
        backoffBaseMs: positiveInt.default(1000),
        backoffMaxMs: positiveInt.default(5 * 60_000),
        leaseMs: positiveInt.default(60_000),
      })
      .strict()
      .default({
        enabled: true,
        concurrency: 4,
        pollMs: 500,
        maxAttempts: 8,
        backoffBaseMs: 1000,
        backoffMaxMs: 5 * 60_000,
        leaseMs: 60_000,
      }),
    /** Admin connections kept open to each database target (see README "Target connections and timing"). */
    connectors: z
      .object({
        /** Admin connections at most per target; more calls at once wait their turn. */
        poolMax: z.coerce.number().int().min(1).max(100).default(8),
        /** An admin connection unused this long is closed. */
        poolIdleMs: positiveInt.default(30_000),
        /**
         * PBKDF2 iterations of the PostgreSQL SCRAM verifiers; unset: 16 when the password policy gives
         * at least 100 bits of entropy, else 4096. Below 4096 it is refused for a weaker policy at start.
         */
        postgresScramIterations: z.coerce.number().int().min(1).max(1_000_000).optional(),
      })
      .strict()
      .prefault({}),
    /** Audit forwarding and notifications (see README "Integrations"). */
    integrations: z
      .object({
        /** Wait between runs of a caught-up audit sink or of the notifier. */
        forwardPollMs: positiveInt.default(2000),
        /** Audit events per delivery to a sink. */
        forwardBatchSize: z.coerce.number().int().min(1).max(5000).default(500),
        /** Delivery attempts of one notification before it goes to the dead-letter list. */
        notifyMaxAttempts: positiveInt.default(6),
        /** How long before a grant ends its holder is told. */
        expiryLeadMinutes: positiveInt.default(15),
        /** Base URL of the back-office, for links in notifications (none when absent). */
        publicUrl: z.string().url().optional(),
        /** Jira: the issues of these project keys are looked up there (secrets read from files). */
        jira: z
          .object({
            baseUrl: z.string().url(),
            apiVersion: z.coerce.number().int().min(2).max(3).default(2),
            projects: z
              .array(z.string().regex(/^[A-Z][A-Z0-9_]{0,19}$/, 'a Jira project key like OPS'))
              .min(1),
            email: z.string().email().optional(),
            apiTokenFile: z.string().min(1).optional(),
            personalAccessTokenFile: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        /** ServiceNow: INC… and CHG… numbers are looked up there. */
        servicenow: z
          .object({ baseUrl: z.string().url(), user: z.string().min(1), passwordFile: z.string().min(1) })
          .strict()
          .optional(),
        /** How often the tickets of active grants are checked for closes in remote trackers. */
        trackerPollMinutes: positiveInt.default(5),
      })
      .strict()
      .prefault({}),
    /** Network rules: checks, the brake, rollouts, and the cloud layer's quotas (see README "Network rules"). */
    network: z
      .object({
        /** Folder of system rule files; defaults to `rules/system` in the installation. */
        systemRulesDir: z.string().min(1).optional(),
        /** Admin and database ports (port or range) open only from `adminSources`. */
        adminPorts: z
          .array(z.string().regex(/^\d{1,5}(-\d{1,5})?$/, 'a port or range, like 22 or 5985-5986'))
          .default(['22', '1433', '1521', '3306', '3389', '5432', '5985-5986', '6379', '9200', '27017']),
        adminSources: z.array(z.string().min(1)).default(['jumpboxes']),
        /** Ports any machine type may open to the whole internet (machine types declare their own). */
        publicPorts: z.array(port).default([]),
        minPrefixV4: z.coerce.number().int().min(0).max(32).default(16),
        minPrefixV6: z.coerce.number().int().min(0).max(128).default(32),
        maxPortSpan: positiveInt.default(1024),
        brakeRemoveShare: z.coerce.number().min(0).max(1).default(0.25),
        brakeOpenShare: z.coerce.number().min(0).default(0.5),
        brakeMinChanges: z.coerce.number().int().min(0).default(3),
        canary: positiveInt.default(1),
        waves: positiveInt.default(3),
        failureThreshold: z.coerce.number().min(0).max(1).default(0),
        attempts: positiveInt.default(3),
        /** Dynamic groups that have a security group of their own: `{ jumpboxes: sg-0123 }`. */
        groupSecurityGroups: z.record(z.string(), z.string().regex(/^sg-[0-9a-f]{8,17}$/)).default({}),
        securityGroupRuleQuota: positiveInt.default(60),
        cloudRequestsPerSecond: positiveInt.default(20),
        concurrency: positiveInt.default(8),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // a cookie without Secure may only travel to a server that listens on loopback
    if (!config.auth.cookieSecure && !/^(127\.|::1$|localhost$)/.test(config.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'cookieSecure'],
        message: 'may be false only when host is a loopback address (127.0.0.1, ::1, localhost)',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Environment variables and the config key each one sets. */
export const envKeys: Record<string, string> = {
  GATEHOUSE_HOST: 'host',
  GATEHOUSE_PORT: 'port',
  DATABASE_URL: 'databaseUrl',
  GATEHOUSE_DATA_DIR: 'dataDir',
  GATEHOUSE_MASTER_KEY_FILE: 'masterKeyFile',
  GATEHOUSE_MASTER_KEY: 'masterKey',
  GATEHOUSE_LOG_LEVEL: 'logLevel',
  GATEHOUSE_TRUSTED_PROXIES: 'trustedProxies',
  GATEHOUSE_BOOTSTRAP_TOKEN: 'bootstrapToken',
  GATEHOUSE_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  GATEHOUSE_AUTH_COOKIE_SECURE: 'auth.cookieSecure',
  GATEHOUSE_AUTH_SESSION_IDLE_MINUTES: 'auth.sessionIdleMinutes',
  GATEHOUSE_AUTH_SESSION_ABSOLUTE_HOURS: 'auth.sessionAbsoluteHours',
  GATEHOUSE_AUTH_LOCKOUT_THRESHOLD: 'auth.lockoutThreshold',
  GATEHOUSE_AUTH_RATE_LIMIT_PER_MINUTE: 'auth.rateLimitPerMinute',
  GATEHOUSE_AUTH_ALLOWED_NETWORKS: 'auth.allowedNetworks',
  GATEHOUSE_AUTH_METRICS_NETWORKS: 'auth.metricsNetworks',
  GATEHOUSE_OIDC_ISSUER: 'auth.oidc.issuer',
  GATEHOUSE_OIDC_CLIENT_ID: 'auth.oidc.clientId',
  GATEHOUSE_OIDC_CLIENT_SECRET: 'auth.oidc.clientSecret',
  GATEHOUSE_OIDC_REDIRECT_URI: 'auth.oidc.redirectUri',
  GATEHOUSE_OIDC_GROUPS_CLAIM: 'auth.oidc.groupsClaim',
  GATEHOUSE_OIDC_REQUIRE_MFA: 'auth.oidc.requireMfa',
  GATEHOUSE_AUDIT_CHECKPOINT_EVERY: 'audit.checkpointEvery',
  GATEHOUSE_AUDIT_CHECKPOINT_MINUTES: 'audit.checkpointMinutes',
  GATEHOUSE_AUDIT_SEAL_INTERVAL_MS: 'audit.sealIntervalMs',
  GATEHOUSE_COMPLIANCE_REMOVAL_TOLERANCE_MINUTES: 'compliance.removalToleranceMinutes',
  GATEHOUSE_COMPLIANCE_SCAN_FREQUENCY_HOURS: 'compliance.scanFrequencyHours',
  GATEHOUSE_JOBS_ENABLED: 'jobs.enabled',
  GATEHOUSE_JOBS_CONCURRENCY: 'jobs.concurrency',
  GATEHOUSE_JOBS_POLL_MS: 'jobs.pollMs',
  GATEHOUSE_JOBS_MAX_ATTEMPTS: 'jobs.maxAttempts',
  GATEHOUSE_CONNECTORS_POOL_MAX: 'connectors.poolMax',
  GATEHOUSE_CONNECTORS_POOL_IDLE_MS: 'connectors.poolIdleMs',
  GATEHOUSE_CONNECTORS_POSTGRES_SCRAM_ITERATIONS: 'connectors.postgresScramIterations',
  GATEHOUSE_INTEGRATIONS_FORWARD_POLL_MS: 'integrations.forwardPollMs',
  GATEHOUSE_INTEGRATIONS_EXPIRY_LEAD_MINUTES: 'integrations.expiryLeadMinutes',
  GATEHOUSE_INTEGRATIONS_PUBLIC_URL: 'integrations.publicUrl',
  GATEHOUSE_NETWORK_SYSTEM_RULES_DIR: 'network.systemRulesDir',
  GATEHOUSE_NETWORK_BRAKE_REMOVE_SHARE: 'network.brakeRemoveShare',
  GATEHOUSE_NETWORK_FAILURE_THRESHOLD: 'network.failureThreshold',
};

const listKeys = new Set(['trustedProxies', 'auth.allowedNetworks', 'auth.metricsNetworks']);

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function describeIssues(error: z.ZodError, nameFor: (path: string) => string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${nameFor(key ? `${key}.${k}` : k)}: unknown setting`).join('; ');
      }
      return `${nameFor(key)}: ${issue.message}`;
    })
    .join('; ');
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Path to a JSON or YAML file; defaults to GATEHOUSE_CONFIG. */
  file?: string;
  /** Values that win over both (command-line flags). */
  overrides?: Record<string, unknown>;
}

/**
 * Reads configuration from an optional file, then the environment, then overrides (flags), and validates
 * it. An invalid value fails with a message that names the setting where it was given.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.GATEHOUSE_CONFIG;
  const raw: Record<string, unknown> = {};
  const origin = new Map<string, string>();

  if (file) {
    let parsed: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`Config file ${file} must hold an object of settings`);
    }
    Object.assign(raw, parsed);
  }

  for (const [variable, key] of Object.entries(envKeys)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    setPath(
      raw,
      key,
      listKeys.has(key)
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value,
    );
    origin.set(key, variable);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, key, value);
    origin.set(key, `--${key}`);
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const nameFor = (key: string) => {
      const from = origin.get(key);
      if (from) return from;
      return file ? `${key} (in ${file})` : key;
    };
    throw new ConfigError(`Invalid configuration: ${describeIssues(result.error, nameFor)}`);
  }
  const config = result.data;
  config.dataDir = path.resolve(config.dataDir);
  return config;
}
