import { z } from 'zod';
import { api } from './client';

/** Identity and sign-in: the shapes of /api/v1/me and /api/v1/auth/* as the back-office reads them. */

export const operator = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  active: z.boolean(),
  customerIds: z.array(z.string()),
});
export type Operator = z.infer<typeof operator>;

export const whoAmI = z.object({
  operator,
  sessionId: z.string().nullable(),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
});
export type WhoAmI = z.infer<typeof whoAmI>;

export const signInMethods = z.object({
  password: z.boolean(),
  oidc: z.object({ start: z.string() }).nullable(),
});

export const passwordStep = z.object({
  next: z.enum(['totp', 'enrol-totp']),
  enrol: z.object({ secret: z.string(), otpauthUri: z.string() }).optional(),
});
export type PasswordStep = z.infer<typeof passwordStep>;

export const signedIn = z.object({
  operator,
  csrfToken: z.string(),
  expiresAt: z.string(),
  recoveryCodes: z.array(z.string()).optional(),
});

export const identityApi = {
  me: () => api.get('/api/v1/me', whoAmI),
  methods: () => api.get('/api/v1/auth/methods', signInMethods),
  password: (username: string, password: string) =>
    api.post('/api/v1/auth/login', { username, password }, passwordStep),
  secondFactor: (body: { code: string } | { recoveryCode: string }) =>
    api.post('/api/v1/auth/totp', body, signedIn),
  signOut: () => api.post('/api/v1/auth/logout', {}, z.object({ ended: z.number() })),
};
