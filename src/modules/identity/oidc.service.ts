import * as client from 'openid-client';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store } from '../../platform/db/store.js';
import { ForbiddenError, UnauthenticatedError } from '../../platform/errors.js';
import type { AuditAppender } from '../audit/audit.types.js';
import { mapClaims, type ClaimMapping } from './domain/oidc-claims.js';
import { identityStore } from './identity.store.js';
import type { Operator } from './identity.types.js';
import { issueSession, type IssuedSession } from './session.store.js';
import type { AttemptContext } from './sign-in.service.js';

export interface OidcSettings extends ClaimMapping {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scopes: string;
}

export interface OidcServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  secrets: SecretBox;
  settings: OidcSettings;
  sessionHours: number;
}

/** The browser's state between the redirect to the IdP and its return, sealed in a cookie. */
interface FlowState {
  verifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
  /** The back-office page to return to (checked at start, sealed with the rest). */
  returnTo?: string;
}

/** A path of this site (one leading slash, printable ASCII, no backslash), or undefined. */
export function localPath(path: string | undefined): string | undefined {
  if (path === undefined || path.length > 200 || path.includes('\\')) return undefined;
  return /^\/(?!\/)[!-~]*$/.test(path) ? path : undefined;
}

const FLOW_CONTEXT = 'oidc-flow';
const FLOW_MS = 10 * 60_000;

const loopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

/**
 * Sign-in through an OpenID Connect provider: authorization code with PKCE, state and nonce; the ID
 * token's groups claim maps to groups and roles, and a token without a second factor (amr/acr) is
 * refused when configured. An operator is created at first sign-in and kept in step with the IdP.
 */
export function createOidcService(deps: OidcServiceDeps) {
  const { db } = deps.store;
  const { settings } = deps;
  let discovered: Promise<client.Configuration> | undefined;

  function configuration(): Promise<client.Configuration> {
    discovered ??= (async () => {
      const issuer = new URL(settings.issuer);
      // plain http only for an IdP on loopback (tests, local development)
      const insecure = issuer.protocol === 'http:' && loopback(issuer);
      return client.discovery(
        issuer,
        settings.clientId,
        settings.clientSecret,
        undefined,
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      );
    })().catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  }

  async function upsertOperator(
    ctx: AttemptContext,
    mapped: Extract<ReturnType<typeof mapClaims>, { ok: true }>,
  ): Promise<Operator | 'inactive'> {
    return db.transaction().execute(async (tx) => {
      const now = deps.clock.now();
      const existing = await identityStore.operatorByUsername(tx, mapped.username);
      const actor = { type: 'system' as const, id: null, name: 'oidc' };
      if (!existing) {
        const operator: Operator = {
          id: deps.ids.uuid(),
          username: mapped.username,
          displayName: mapped.displayName,
          email: mapped.email,
          groups: mapped.groups,
          roles: mapped.roles,
          active: true,
          customerIds: [],
          createdAt: now,
          updatedAt: now,
        };
        await identityStore.insertOperator(tx, operator);
        await deps.audit.append(tx, {
          ...ctx,
          actor,
          action: 'operator.created',
          target: { type: 'operator', id: operator.id },
          details: {
            username: operator.username,
            groups: operator.groups,
            roles: operator.roles,
            source: 'oidc',
          },
        });
        return operator;
      }
      if (!existing.active) return 'inactive';
      const same = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();
      if (same(existing.groups, mapped.groups) && same(existing.roles, mapped.roles)) return existing;
      const next = { ...existing, groups: mapped.groups, roles: mapped.roles, updatedAt: now };
      await identityStore.updateOperator(tx, next, existing.updatedAt);
      await deps.audit.append(tx, {
        ...ctx,
        actor,
        action: 'operator.updated',
        target: { type: 'operator', id: existing.id },
        details: {
          username: existing.username,
          source: 'oidc',
          changes: {
            groups: { from: existing.groups, to: mapped.groups },
            roles: { from: existing.roles, to: mapped.roles },
          },
        },
      });
      return next;
    });
  }

  async function refuse(ctx: AttemptContext, reason: string, details: Record<string, unknown>) {
    await db.transaction().execute((tx) =>
      deps.audit.append(tx, {
        ...ctx,
        actor: { type: 'system', id: null, name: 'oidc' },
        action: reason === 'no-mfa' ? 'auth.mfa-failed' : 'auth.sign-in-failed',
        details: { method: 'oidc', reason, ...details },
      }),
    );
  }

  return {
    /** Where to send the browser, and the sealed flow state to keep in a cookie until it returns. */
    async start(returnTo?: string): Promise<{ location: string; flow: string }> {
      const config = await configuration();
      const back = localPath(returnTo);
      const flow: FlowState = {
        verifier: client.randomPKCECodeVerifier(),
        state: client.randomState(),
        nonce: client.randomNonce(),
        expiresAt: deps.clock.now().getTime() + FLOW_MS,
        ...(back ? { returnTo: back } : {}),
      };
      const location = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        scope: settings.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
      });
      return { location: location.href, flow: deps.secrets.seal(JSON.stringify(flow), FLOW_CONTEXT) };
    },

    /** The browser is back with a code: exchange it, check the ID token and open a session. */
    async finish(
      ctx: AttemptContext,
      sealedFlow: string | undefined,
      query: string,
    ): Promise<{ operator: Operator; session: IssuedSession; returnTo: string }> {
      let flow: FlowState;
      try {
        flow = JSON.parse(deps.secrets.open(sealedFlow ?? '', FLOW_CONTEXT)) as FlowState;
      } catch {
        throw new UnauthenticatedError('Start the sign-in again: its state is missing or was altered');
      }
      if (flow.expiresAt <= deps.clock.now().getTime()) {
        throw new UnauthenticatedError('Start the sign-in again: it took too long');
      }
      const config = await configuration();
      const callback = new URL(settings.redirectUri);
      callback.search = query;
      let claims: Record<string, unknown>;
      try {
        const tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        claims = { ...(tokens.claims() ?? {}) };
      } catch (error) {
        await refuse(ctx, 'code-exchange', { error: (error as Error).message });
        throw new UnauthenticatedError('The identity provider did not confirm the sign-in; start again');
      }
      const mapped = mapClaims(claims, settings);
      if (!mapped.ok) {
        await refuse(ctx, mapped.reason, { subject: claims.sub, detail: mapped.detail });
        throw mapped.reason === 'no-mfa'
          ? new ForbiddenError(
              'Your identity provider did not report a second factor for this sign-in; sign in with MFA',
              { details: { reason: mapped.reason } },
            )
          : new ForbiddenError(`The identity provider's answer cannot be used: ${mapped.reason}`, {
              details: { reason: mapped.reason },
            });
      }
      const operator = await upsertOperator(ctx, mapped);
      if (operator === 'inactive') {
        await refuse(ctx, 'inactive', { username: mapped.username });
        throw new ForbiddenError('This operator is deactivated', { details: { reason: 'inactive' } });
      }
      const session = await db.transaction().execute(async (tx) => {
        const issued = await issueSession(tx, deps, {
          operatorId: operator.id,
          stage: 'active',
          method: 'oidc',
          sourceIp: ctx.sourceIp ?? null,
          lifetimeMs: deps.sessionHours * 3_600_000,
        });
        await deps.audit.append(tx, {
          ...ctx,
          actor: { type: 'operator', id: operator.id, name: operator.username },
          action: 'auth.signed-in',
          target: { type: 'operator', id: operator.id },
          details: {
            username: operator.username,
            method: 'oidc',
            amr: claims.amr ?? null,
            acr: claims.acr ?? null,
          },
        });
        return issued;
      });
      return { operator, session, returnTo: localPath(flow.returnTo) ?? '/' };
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;
