import type { Permission, Role } from './domain/roles.js';

/** The authenticated caller of an API route. */
export interface Principal {
  operatorId: string;
  username: string;
  groups: string[];
  /** Effective roles of this call (the token's scope within the operator's roles). */
  roles: Role[];
  permissions: ReadonlySet<Permission>;
  /** Customers the caller is scoped to; empty: every customer. */
  customerIds: string[];
  /** The API token of this call, or null for a browser session. */
  tokenId: string | null;
  /** The session of this call, or null for an API token. */
  sessionId: string | null;
}

export interface Operator {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  groups: string[];
  roles: Role[];
  active: boolean;
  /** Customers the operator is scoped to; empty: every customer. */
  customerIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiToken {
  id: string;
  operatorId: string;
  name: string;
  prefix: string;
  roles: Role[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}
