import { randomBytes } from 'node:crypto';
import type { Gatehouse } from '../../app.js';
import { systemActor } from '../../modules/audit/audit.types.js';
import { createPasswordAdminService } from '../../modules/identity/password-admin.service.js';
import { GatehouseError } from '../../platform/errors.js';

/**
 * What `serve --demo` adds so a newcomer can use the web back-office at once: two operators with
 * machine-made passwords (printed once, when they are created; TOTP is enrolled at first sign-in), a
 * demo access policy (only while no policy set exists), and this machine as a jumpbox, so the browser
 * on it may reveal credentials. Idempotent: a second start changes nothing and prints no password.
 */

export const DEMO_OPERATORS = [
  {
    username: 'demo-admin',
    displayName: 'Demo Admin',
    roles: ['admin'],
    groups: ['demo'],
    does: 'administers; requests access',
  },
  {
    username: 'demo-approver',
    displayName: 'Demo Approver',
    roles: ['approver'],
    groups: ['demo-leads'],
    does: "approves demo-admin's requests",
  },
] as const;

const LOCAL_JUMPBOX = 'jump-local';

/** Demo access: group `demo` asks, group `demo-leads` approves; staging read-only needs no approval. */
export const demoPolicies = {
  policies: [
    {
      name: 'demo-databases',
      description: 'Demo: the demo group asks for the demo databases, a demo lead approves',
      requesterGroups: ['demo'],
      levels: ['read-only', 'read-write'],
      assets: { kinds: ['database'] },
      maxDuration: '4h',
      ticket: 'optional',
      approvals: { approverGroups: ['demo-leads'], reviewWindow: '24h' },
      autoApprove: [{ levels: ['read-only'], tiers: ['staging'], maxDuration: '1h', requireTicket: false }],
      fileTransfer: false,
    },
  ],
};

export interface DemoSignIn {
  /** Operators created by this start, with their passwords (print them once). */
  created: { username: string; password: string; does: string }[];
  /** Demo operators that already existed (their passwords were printed when they were created). */
  existing: string[];
}

const notFound = (error: unknown) => error instanceof GatehouseError && error.code === 'not_found';

/** A password for a person to type once: 20 characters from an unambiguous alphabet. */
function demoPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export async function prepareDemoSignIn(gh: Gatehouse): Promise<DemoSignIn> {
  const ctx = { actor: systemActor('demo') };
  const passwords = createPasswordAdminService({ store: gh.store, clock: gh.clock, audit: gh.audit });
  const result: DemoSignIn = { created: [], existing: [] };

  for (const demo of DEMO_OPERATORS) {
    try {
      await gh.identity.getOperator(demo.username);
      result.existing.push(demo.username);
      continue;
    } catch (error) {
      if (!notFound(error)) throw error;
    }
    await gh.identity.createOperator(ctx, {
      username: demo.username,
      displayName: demo.displayName,
      roles: [...demo.roles],
      groups: [...demo.groups],
    });
    const password = demoPassword();
    await passwords.setPassword(ctx, demo.username, password);
    result.created.push({ username: demo.username, password, does: demo.does });
  }

  if ((await gh.access.policies.current()).version === 0) {
    await gh.access.policies.apply(ctx, demoPolicies, 'demo policies (serve --demo)');
  }

  try {
    await gh.inventory.getJumpbox(LOCAL_JUMPBOX);
  } catch (error) {
    if (!notFound(error)) throw error;
    await gh.inventory.createJumpbox(ctx, {
      name: LOCAL_JUMPBOX,
      region: 'eu-west-1',
      address: '127.0.0.1',
      sourceCidrs: ['127.0.0.1/32', '::1/128'],
      description: 'This machine: the demo browser reveals credentials from here',
    });
  }
  return result;
}

/** The lines `serve --demo` prints about signing in to the web back-office. */
export function demoSignInLines(base: string, signIn: DemoSignIn): string[] {
  const lines = [`Web back-office: ${base}/   (open it in a browser on this machine)`];
  if (signIn.created.length > 0) {
    lines.push('', 'Sign in with one of these demo operators (passwords shown only this once):', '');
    for (const op of signIn.created) lines.push(`  ${op.username.padEnd(14)} ${op.password}   ${op.does}`);
  } else {
    lines.push(
      '',
      `Sign in as ${signIn.existing.join(' or ')} with the password printed when the demo store was`,
      'created. Lost it? Stop the server, remove the data folder and start the demo again.',
    );
  }
  lines.push(
    '',
    'The first sign-in enrols an authenticator app (TOTP) from a QR code and shows recovery',
    'codes once; later sign-ins ask for a code from the app.',
  );
  return lines;
}
