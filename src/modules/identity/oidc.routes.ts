import { z } from 'zod';
import { setSessionCookies, type CookieSettings } from '../../http/cookies.js';
import type { RoutePlugin } from '../../http/types.js';
import { GatehouseError } from '../../platform/errors.js';
import type { OidcService } from './oidc.service.js';

const FLOW_COOKIE = 'gh_oidc';

/** A top-level browser navigation (not fetch or a CLI): it accepts HTML. */
const wantsPage = (accept: string | undefined) => accept?.includes('text/html') === true;

/** Why an SSO sign-in failed, as a short code the sign-in page maps to its own words. */
export function ssoFailureReason(error: GatehouseError): string {
  const reason = error.details?.reason;
  if (typeof reason === 'string' && /^[a-z][a-z-]{0,39}$/.test(reason)) return reason;
  return error.code === 'unauthenticated' ? 'restart' : 'refused';
}
const FLOW_PATH = '/api/v1/auth/oidc';

/** Browser sign-in through the configured OpenID Connect provider. */
export function oidcRoutes(deps: { oidc: OidcService; cookies: CookieSettings }): RoutePlugin {
  const { oidc, cookies } = deps;
  const tags = ['auth'];
  return (app) => {
    app.get(
      '/api/v1/auth/oidc/start',
      {
        config: { permission: 'public', rateLimited: true },
        schema: {
          tags,
          summary: 'Sign in with the identity provider: redirects there',
          security: [],
          querystring: z.object({
            next: z
              .string()
              .max(200)
              .optional()
              .describe('A back-office path to return to afterwards (like /approvals); others are ignored'),
          }),
        },
      },
      async (request, reply) => {
        const { location, flow } = await oidc.start(request.query.next);
        // Lax, not Strict: it must come back with the browser's top-level return from the IdP
        reply.setCookie(FLOW_COOKIE, flow, {
          httpOnly: true,
          secure: cookies.secure,
          sameSite: 'lax',
          path: FLOW_PATH,
          maxAge: 600,
        });
        return reply.header('cache-control', 'no-store').redirect(location, 302);
      },
    );

    app.get(
      '/api/v1/auth/oidc/callback',
      {
        config: { permission: 'public', rateLimited: true },
        schema: {
          tags,
          summary:
            'Where the identity provider sends the browser back; opens a session and goes to / (or the page given to start)',
          security: [],
          querystring: z.object({}).passthrough(),
        },
      },
      async (request, reply) => {
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        let session;
        let returnTo: string;
        try {
          ({ session, returnTo } = await oidc.finish(
            { requestId: request.id, sourceIp: request.ip },
            request.cookies[FLOW_COOKIE],
            query,
          ));
        } catch (error) {
          // a browser goes back to the sign-in page, which says why (a fixed text per reason, never
          // text from the URL); other callers get the error body
          if (!(error instanceof GatehouseError) || !wantsPage(request.headers.accept)) throw error;
          reply.clearCookie(FLOW_COOKIE, { path: FLOW_PATH });
          const reason = ssoFailureReason(error);
          return reply
            .header('cache-control', 'no-store')
            .redirect(`/sign-in?sso=${reason}&requestId=${encodeURIComponent(request.id)}`, 303);
        }
        reply.clearCookie(FLOW_COOKIE, { path: FLOW_PATH });
        setSessionCookies(reply, cookies, session);
        return reply.header('cache-control', 'no-store').redirect(returnTo, 303);
      },
    );
  };
}
