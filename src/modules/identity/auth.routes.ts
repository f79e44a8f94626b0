import { z } from 'zod';
import {
  clearSessionCookies,
  PENDING_COOKIE,
  setPendingCookie,
  setSessionCookies,
  type CookieSettings,
} from '../../http/cookies.js';
import { contextOf, principalOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import { PASSWORD_MAX } from './domain/secrets.js';
import { operatorResponse, username } from './identity.schemas.js';
import type { PasswordAdminService } from './password-admin.service.js';
import type { SignInService } from './sign-in.service.js';

const signInBody = z.object({ username, password: z.string().min(1).max(PASSWORD_MAX) }).strict();

const signInResponse = z.object({
  next: z
    .enum(['totp', 'enrol-totp'])
    .describe('The second step: a TOTP code, after enrolling the seed if new'),
  enrol: z
    .object({
      secret: z.string().describe('The TOTP seed (base32), shown this once: add it to an authenticator app'),
      otpauthUri: z.string(),
    })
    .optional(),
});

const secondFactorBody = z
  .object({
    code: z
      .string()
      .regex(/^\d{6}$/, 'a TOTP code is 6 digits')
      .optional(),
    recoveryCode: z.string().min(16).max(40).optional(),
  })
  .strict()
  .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
    message: 'send either code or recoveryCode',
  });

const sessionResponse = z.object({
  operator: operatorResponse,
  csrfToken: z.string().describe('Echo it in the X-CSRF-Token header of every state-changing call'),
  expiresAt: z.date(),
  recoveryCodes: z
    .array(z.string())
    .optional()
    .describe('One-time recovery codes, shown once at enrolment: keep them offline'),
});

const passwordBody = z
  .object({
    password: z.string().min(1).max(PASSWORD_MAX),
    resetMfa: z.boolean().default(false).describe('Also forget the TOTP seed and recovery codes'),
  })
  .strict();

const signInMethodsResponse = z.object({
  password: z.boolean().describe('Local password then TOTP: POST /api/v1/auth/login'),
  oidc: z
    .object({ start: z.string().describe('Send the browser here (a full-page navigation)') })
    .nullable()
    .describe('Sign-in with the identity provider, when configured'),
});

const refParams = z.object({ ref: z.string().min(1).max(63) });

/** Browser sign-in (password then TOTP or a recovery code), sign-out, and the admin's password and unlock routes. */
export function authRoutes(deps: {
  signIn: SignInService;
  passwords: PasswordAdminService;
  cookies: CookieSettings;
  /** Whether "Sign in with SSO" (/api/v1/auth/oidc/start) is offered. */
  oidcEnabled?: boolean;
}): RoutePlugin {
  const { signIn, passwords, cookies } = deps;
  const tags = ['auth'];
  const where = (request: { id: string; ip: string }) => ({ requestId: request.id, sourceIp: request.ip });
  return (app) => {
    app.get(
      '/api/v1/auth/methods',
      {
        config: { permission: 'public' },
        schema: {
          tags,
          summary: 'How one may sign in here: local password + TOTP, and OIDC when configured',
          security: [],
          response: { 200: signInMethodsResponse },
        },
      },
      async () => ({
        password: true,
        oidc: deps.oidcEnabled === true ? { start: '/api/v1/auth/oidc/start' } : null,
      }),
    );

    app.post(
      '/api/v1/auth/login',
      {
        config: { permission: 'public', rateLimited: true },
        schema: {
          tags,
          summary: 'Sign in, step 1: username and password (then POST /api/v1/auth/totp)',
          security: [],
          body: signInBody,
          response: { 200: signInResponse },
        },
      },
      async (request, reply) => {
        const { session, enrol } = await signIn.signIn(where(request), request.body);
        setPendingCookie(reply, cookies, session.secret, session.expiresAt);
        return reply
          .header('cache-control', 'no-store')
          .send({ next: enrol ? ('enrol-totp' as const) : ('totp' as const), ...(enrol ? { enrol } : {}) });
      },
    );

    app.post(
      '/api/v1/auth/totp',
      {
        config: { permission: 'public', rateLimited: true },
        schema: {
          tags,
          summary: 'Sign in, step 2: a TOTP code (completes enrolment on first sign-in) or a recovery code',
          security: [],
          body: secondFactorBody,
          response: { 200: sessionResponse },
        },
      },
      async (request, reply) => {
        const done = await signIn.completeSignIn(
          where(request),
          request.cookies[PENDING_COOKIE],
          request.body,
        );
        setSessionCookies(reply, cookies, done.session);
        return reply.header('cache-control', 'no-store').send({
          operator: done.operator,
          csrfToken: done.session.csrfToken,
          expiresAt: done.session.expiresAt,
          ...(done.recoveryCodes ? { recoveryCodes: done.recoveryCodes } : {}),
        });
      },
    );

    for (const [path, everywhere] of [
      ['/api/v1/auth/logout', false],
      ['/api/v1/auth/logout-everywhere', true],
    ] as const) {
      app.post(
        path,
        {
          config: { permission: 'authenticated' },
          schema: {
            tags,
            summary: everywhere
              ? 'Sign out of every session you have (API tokens stay: revoke them apart)'
              : 'Sign out of this session',
            response: { 200: z.object({ ended: z.number() }) },
          },
        },
        async (request, reply) => {
          const result = await signIn.signOut(contextOf(request), principalOf(request), everywhere);
          clearSessionCookies(reply);
          return reply.send(result);
        },
      );
    }

    app.put(
      '/api/v1/operators/:ref/password',
      {
        config: { permission: 'operators:write' },
        schema: {
          tags: ['identity'],
          summary: "Set an operator's password (they enrol TOTP at their next sign-in if not yet enrolled)",
          params: refParams,
          body: passwordBody,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await passwords.setPassword(
          contextOf(request),
          request.params.ref,
          request.body.password,
          request.body.resetMfa,
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/operators/:ref/unlock',
      {
        config: { permission: 'operators:write' },
        schema: {
          tags: ['identity'],
          summary: 'Lift the lockout of an operator after too many failed sign-in attempts',
          params: refParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await passwords.unlock(contextOf(request), request.params.ref);
        return reply.code(204).send(null);
      },
    );
  };
}
