import type { FastifyReply } from 'fastify';

/** The signed-in session (HttpOnly: scripts never see it). */
export const SESSION_COOKIE = 'gh_session';
/** The session waiting for its second factor; sent only to the sign-in routes. */
export const PENDING_COOKIE = 'gh_pending';
/** The CSRF token, readable by the page so it can echo it in X-CSRF-Token (double submit). */
export const CSRF_COOKIE = 'gh_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const AUTH_PATH = '/api/v1/auth';

export interface CookieSettings {
  secure: boolean;
}

function set(
  reply: FastifyReply,
  settings: CookieSettings,
  name: string,
  value: string,
  options: { expires: Date; httpOnly: boolean; path: string },
): void {
  reply.setCookie(name, value, { ...options, sameSite: 'strict', secure: settings.secure });
}

export function setPendingCookie(reply: FastifyReply, s: CookieSettings, secret: string, expires: Date) {
  set(reply, s, PENDING_COOKIE, secret, { expires, httpOnly: true, path: AUTH_PATH });
}

export function setSessionCookies(
  reply: FastifyReply,
  s: CookieSettings,
  session: { secret: string; csrfToken: string; expiresAt: Date },
) {
  set(reply, s, SESSION_COOKIE, session.secret, { expires: session.expiresAt, httpOnly: true, path: '/' });
  set(reply, s, CSRF_COOKIE, session.csrfToken, { expires: session.expiresAt, httpOnly: false, path: '/' });
  reply.clearCookie(PENDING_COOKIE, { path: AUTH_PATH });
}

export function clearSessionCookies(reply: FastifyReply) {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
  reply.clearCookie(CSRF_COOKIE, { path: '/' });
  reply.clearCookie(PENDING_COOKIE, { path: AUTH_PATH });
}
