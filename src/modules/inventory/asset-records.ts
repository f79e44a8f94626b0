import type { SecretBox } from '../../platform/crypto.js';
import { ValidationError } from '../../platform/errors.js';
import type { AssetRecord } from './asset.store.js';
import type { AdminCredential, AutomationCredential, CreateAssetInput } from './inventory.schemas.js';
import type { References } from './references.js';
import { unknownReference } from './service-support.js';

/** The context a credential is sealed under: a ciphertext copied to another asset does not open. */
export const credentialContext = (assetId: string) => `asset:${assetId}:admin`;

export function sealCredential(
  secrets: Pick<SecretBox, 'seal'>,
  assetId: string,
  credential: AdminCredential,
): string {
  return secrets.seal(
    JSON.stringify({ username: credential.username, password: credential.password }),
    credentialContext(assetId),
  );
}

/** A server's automation credential is sealed under its own context: it never opens as an admin one. */
export const automationContext = (assetId: string) => `asset:${assetId}:automation`;

export function sealAutomationCredential(
  secrets: Pick<SecretBox, 'seal'>,
  assetId: string,
  credential: AutomationCredential,
): string {
  return secrets.seal(
    JSON.stringify({ username: credential.username, privateKey: credential.privateKey }),
    automationContext(assetId),
  );
}

export interface Placement {
  customerId: string | null;
  environmentId: string | null;
  regionId: string;
  machineTypeId: string | null;
}

/**
 * Resolves where an asset sits from names. The environment belongs to the customer (so naming one
 * needs the other), and the region defaults to the environment's.
 */
export async function resolvePlacement(
  refs: References,
  input: {
    customer?: string | null | undefined;
    environment?: string | null | undefined;
    region?: string | undefined;
    machineType?: string | null | undefined;
  },
): Promise<Placement> {
  let customerId: string | null = null;
  if (input.customer) {
    customerId = (await refs.customerId(input.customer)) ?? null;
    if (!customerId) throw unknownReference('customer', 'customer', input.customer);
  }
  let environment: { id: string; regionId: string } | undefined;
  if (input.environment) {
    if (!customerId || !input.customer) {
      throw new ValidationError(
        `environment: name the customer too; environment '${input.environment}' is looked up within a customer`,
        { details: { field: 'environment' } },
      );
    }
    environment = await refs.environment(customerId, input.environment);
    if (!environment) {
      throw new ValidationError(
        `environment: customer '${input.customer}' has no environment named '${input.environment}'; ` +
          'create it first or check the name',
        { details: { field: 'environment' } },
      );
    }
  }
  let regionId = environment?.regionId;
  if (input.region) {
    regionId = await refs.regionId(input.region);
    if (!regionId) throw unknownReference('region', 'region', input.region);
  }
  if (!regionId) {
    throw new ValidationError('region: name the region, or an environment to take it from', {
      details: { field: 'region' },
    });
  }
  let machineTypeId: string | null = null;
  if (input.machineType) {
    machineTypeId = (await refs.machineTypeId(input.machineType)) ?? null;
    if (!machineTypeId) throw unknownReference('machineType', 'machine type', input.machineType);
  }
  return { customerId, environmentId: environment?.id ?? null, regionId, machineTypeId };
}

export async function resolveGroups(refs: References, names: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of new Set(names)) {
    const id = await refs.groupId(name);
    if (!id) throw unknownReference('groups', 'asset group', name);
    ids.push(id);
  }
  return ids;
}

/** A new asset's stored form, with its admin credential sealed under its own id. */
export function assetRecord(
  secrets: Pick<SecretBox, 'seal'>,
  input: CreateAssetInput,
  placement: Placement,
  id: string,
  now: Date,
): AssetRecord {
  const common = {
    id,
    name: input.name,
    kind: input.kind,
    ...placement,
    labels: input.labels ?? {},
    createdAt: now,
    updatedAt: now,
  };
  if (input.kind === 'server') {
    return {
      ...common,
      os: input.os,
      address: input.address,
      engine: null,
      host: null,
      port: null,
      sealedAdminCredential: null,
      sshPort: input.sshPort ?? null,
      sealedAutomationCredential: input.automationCredential
        ? sealAutomationCredential(secrets, id, input.automationCredential)
        : null,
      hostKeys: input.hostKeys ?? [],
    };
  }
  return {
    ...common,
    os: null,
    address: input.address ?? null,
    engine: input.engine,
    host: input.host,
    port: input.port,
    sealedAdminCredential: input.adminCredential ? sealCredential(secrets, id, input.adminCredential) : null,
  };
}
