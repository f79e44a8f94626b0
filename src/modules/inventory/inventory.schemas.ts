import { z } from 'zod';
import {
  automationUsername,
  hostKey,
  sshPrivateKey,
} from '../../adapters/connectors/linux-ssh/linux-config.js';
import { cidr, displayName, host, ipAddress, labels, port, slug, text } from '../../platform/validation.js';

/**
 * The inventory's API contract. Inputs name related objects (`customer: 'acme'`); responses give both
 * ids and names. Every input object is strict: a field the API does not know is an error, not ignored.
 * Response schemas never carry an admin credential, only whether one is stored.
 */

export const tiers = ['production', 'staging', 'development', 'test'] as const;
export const engines = ['postgres', 'mysql', 'mariadb', 'mssql', 'oracle'] as const;
export const assetKinds = ['server', 'database'] as const;

export const tier = z.enum(tiers);
export const engine = z.enum(engines);
export const name = slug;
/** A path segment that is an id or a name. */
export const ref = z.string().min(1).max(63);
export const description = text(500);
export const operatingSystem = text(100).min(1);

export const adminUsername = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.@$-]{0,62}$/,
    'use 1-63 letters, digits or _ . @ $ -, starting with a letter or underscore, like "postgres"',
  );

export const adminCredential = z
  .object({
    username: adminUsername,
    password: z.string().max(1024, 'at most 1024 characters'),
  })
  .strict()
  .describe('Sealed with the master key on arrival; no response ever returns it');

const groupNames = z.array(name).max(50, 'at most 50 asset groups');

/** Servers: the account Gatehouse logs in as over SSH to manage temporary accounts (linux-ssh). */
export const automationCredential = z
  .object({ username: automationUsername, privateKey: sshPrivateKey })
  .strict()
  .describe('Sealed with the master key on arrival; no response ever returns the private key');

export const hostKeys = z
  .array(hostKey)
  .min(1, 'record at least one host key')
  .max(16, 'at most 16 host keys')
  .describe('Host keys as ssh-keyscan prints them after the host name: "ssh-ed25519 AAAA…"');

// ---- bodies ------------------------------------------------------------------------------------

export const createRegionBody = z
  .object({ name, displayName: displayName.optional().describe('Defaults to the name') })
  .strict();
export const updateRegionBody = z
  .object({ name: name.optional(), displayName: displayName.optional() })
  .strict();

export const createCustomerBody = createRegionBody;
export const updateCustomerBody = updateRegionBody;

export const createEnvironmentBody = z.object({ name, tier, region: name.describe('Region name') }).strict();
export const updateEnvironmentBody = z
  .object({ name: name.optional(), tier: tier.optional(), region: name.optional() })
  .strict();

export const createMachineTypeBody = z.object({ name, description: description.optional() }).strict();
export const updateMachineTypeBody = z
  .object({ name: name.optional(), description: description.optional() })
  .strict();

export const createAssetGroupBody = createMachineTypeBody;
export const updateAssetGroupBody = updateMachineTypeBody;

export const groupMembersBody = z
  .object({ assets: z.array(ref).min(1).max(1000).describe('Asset names or ids') })
  .strict();

const assetPlacement = {
  name,
  customer: name.optional().describe('Customer name'),
  environment: name.optional().describe("Environment name within the asset's customer"),
  region: name.optional().describe("Region name; defaults to the environment's region"),
  machineType: name.optional().describe('Machine type name'),
  labels: labels.optional(),
  groups: groupNames.optional().describe('Asset groups the asset belongs to'),
};

export const createServerBody = z
  .object({
    kind: z.literal('server'),
    ...assetPlacement,
    os: operatingSystem,
    address: ipAddress,
    sshPort: port.optional().describe('The port sshd listens on; 22 when absent'),
    automationCredential: automationCredential.optional(),
    hostKeys: hostKeys.optional(),
  })
  .strict();

export const createDatabaseBody = z
  .object({
    kind: z.literal('database'),
    ...assetPlacement,
    engine,
    host,
    port,
    address: ipAddress.optional().describe('The IP network rules apply to, when host is a name'),
    adminCredential: adminCredential.optional(),
  })
  .strict();

export const createAssetBody = z.discriminatedUnion('kind', [createServerBody, createDatabaseBody]);

/** PATCH: only the fields sent change; `null` clears an optional one. The kind never changes. */
export const updateAssetBody = z
  .object({
    name: name.optional(),
    customer: name.nullable().optional(),
    environment: name.nullable().optional(),
    region: name.optional(),
    machineType: name.nullable().optional(),
    labels: labels.optional().describe('Replaces all labels'),
    groups: groupNames.optional().describe('Replaces the group memberships'),
    os: operatingSystem.optional().describe('Servers only'),
    address: ipAddress.nullable().optional().describe('Servers: required; databases: optional'),
    engine: engine.optional().describe('Databases only'),
    host: host.optional().describe('Databases only'),
    port: port.optional().describe('Databases only'),
    adminCredential: adminCredential.nullable().optional().describe('Databases only; null removes it'),
    sshPort: port.nullable().optional().describe('Servers only; null: back to 22'),
    automationCredential: automationCredential
      .nullable()
      .optional()
      .describe('Servers only; null removes it'),
    hostKeys: hostKeys
      .nullable()
      .optional()
      .describe('Servers only; replaces the recorded keys, null clears'),
  })
  .strict();

export const createJumpboxBody = z
  .object({
    name,
    region: name,
    address: ipAddress,
    sourceCidrs: z
      .array(cidr)
      .min(1, 'list at least one source CIDR')
      .max(64, 'at most 64 source CIDRs')
      .describe('The addresses its connections come from, as targets see them'),
    description: description.optional(),
  })
  .strict();
export const updateJumpboxBody = z
  .object({
    name: name.optional(),
    region: name.optional(),
    address: ipAddress.optional(),
    sourceCidrs: createJumpboxBody.shape.sourceCidrs.optional(),
    description: description.optional(),
  })
  .strict();

export type CreateRegionInput = z.infer<typeof createRegionBody>;
export type UpdateRegionInput = z.infer<typeof updateRegionBody>;
export type CreateCustomerInput = CreateRegionInput;
export type UpdateCustomerInput = UpdateRegionInput;
export type CreateEnvironmentInput = z.infer<typeof createEnvironmentBody>;
export type UpdateEnvironmentInput = z.infer<typeof updateEnvironmentBody>;
export type CreateMachineTypeInput = z.infer<typeof createMachineTypeBody>;
export type UpdateMachineTypeInput = z.infer<typeof updateMachineTypeBody>;
export type CreateAssetGroupInput = CreateMachineTypeInput;
export type UpdateAssetGroupInput = UpdateMachineTypeInput;
export type CreateAssetInput = z.infer<typeof createAssetBody>;
export type UpdateAssetInput = z.infer<typeof updateAssetBody>;
export type CreateJumpboxInput = z.infer<typeof createJumpboxBody>;
export type UpdateJumpboxInput = z.infer<typeof updateJumpboxBody>;
export type AdminCredential = z.infer<typeof adminCredential>;
export type AutomationCredential = z.infer<typeof automationCredential>;

// ---- queries -----------------------------------------------------------------------------------

const paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor from the previous page'),
  q: text(63).optional().describe('Only those whose name contains this'),
};

export const listQuery = z.object(paging).strict();

export const environmentListQuery = z
  .object({ ...paging, tier: tier.optional(), region: name.optional() })
  .strict();

export const jumpboxListQuery = z.object({ ...paging, region: name.optional() }).strict();

export const assetListQuery = z
  .object({
    ...paging,
    customer: name.optional(),
    environment: name.optional().describe('Environment name (across customers unless customer is given)'),
    region: name.optional(),
    kind: z.enum(assetKinds).optional(),
    engine: engine.optional(),
    machineType: name.optional(),
    group: name.optional(),
    label: text(264)
      .regex(/^[a-z0-9][a-z0-9._/-]{0,62}(=.{0,200})?$/s, 'use key or key=value, like tier=web')
      .optional()
      .describe('key (has the label) or key=value'),
  })
  .strict();

export type ListQuery = z.infer<typeof listQuery>;
export type EnvironmentListQuery = z.infer<typeof environmentListQuery>;
export type JumpboxListQuery = z.infer<typeof jumpboxListQuery>;
export type AssetListQuery = z.infer<typeof assetListQuery>;

// ---- responses ---------------------------------------------------------------------------------

const timestamps = { createdAt: z.date(), updatedAt: z.date() };

export const regionResponse = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  ...timestamps,
});
export const customerResponse = regionResponse;

export const environmentResponse = z.object({
  id: z.string(),
  name: z.string(),
  tier,
  customerId: z.string(),
  customer: z.string(),
  regionId: z.string(),
  region: z.string(),
  ...timestamps,
});

export const machineTypeResponse = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  ...timestamps,
});

export const assetGroupResponse = machineTypeResponse.extend({ memberCount: z.number().int() });

const assetCommon = {
  id: z.string(),
  name: z.string(),
  customerId: z.string().nullable(),
  customer: z.string().nullable(),
  environmentId: z.string().nullable(),
  environment: z.string().nullable(),
  regionId: z.string(),
  region: z.string(),
  machineTypeId: z.string().nullable(),
  machineType: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  groups: z.array(z.string()),
  ...timestamps,
};

export const serverResponse = z.object({
  kind: z.literal('server'),
  ...assetCommon,
  os: z.string(),
  address: z.string(),
  sshPort: z.number().int(),
  hostKeys: z.array(z.string()),
  hasAutomationCredential: z
    .boolean()
    .describe('Whether an automation credential is stored (its private key is never returned)'),
});

export const databaseResponse = z.object({
  kind: z.literal('database'),
  ...assetCommon,
  engine,
  host: z.string(),
  port: z.number().int(),
  address: z.string().nullable(),
  hasAdminCredential: z.boolean().describe('Whether an admin credential is stored (it is never returned)'),
});

export const assetResponse = z.discriminatedUnion('kind', [serverResponse, databaseResponse]);

export const jumpboxResponse = z.object({
  id: z.string(),
  name: z.string(),
  regionId: z.string(),
  region: z.string(),
  address: z.string(),
  sourceCidrs: z.array(z.string()),
  description: z.string(),
  ...timestamps,
});

export type Region = z.infer<typeof regionResponse>;
export type Customer = z.infer<typeof customerResponse>;
export type Environment = z.infer<typeof environmentResponse>;
export type MachineType = z.infer<typeof machineTypeResponse>;
export type AssetGroup = z.infer<typeof assetGroupResponse>;
export type ServerAsset = z.infer<typeof serverResponse>;
export type DatabaseAsset = z.infer<typeof databaseResponse>;
export type Asset = z.infer<typeof assetResponse>;
export type Jumpbox = z.infer<typeof jumpboxResponse>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null at the end'),
  });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
