import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { asApiError, csrfToken, onUnauthenticated } from '../api/client';
import { identityApi, type WhoAmI } from '../api/identity';

/** Who is signed in, for every page: `useSession().can('access:review')`. */
export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; reason?: 'expired' | 'signed-out' }
  | { status: 'signed-in'; me: WhoAmI };

export interface Session {
  state: SessionState;
  /** The signed-in operator, or undefined. */
  me: WhoAmI | undefined;
  /** Whether the signed-in operator's roles grant a permission (hide what they cannot use). */
  can: (permission: string) => boolean;
  /** After sign-in: loads who the session belongs to. */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>(() =>
    // no CSRF cookie: no session, and no call that would only answer 401
    csrfToken() === undefined ? { status: 'signed-out' } : { status: 'loading' },
  );

  const refresh = useCallback(async () => {
    try {
      setState({ status: 'signed-in', me: await identityApi.me() });
    } catch (error) {
      // a 401 here: the session the cookies name has ended (expired, or signed out elsewhere)
      setState({ status: 'signed-out', ...(asApiError(error).status === 401 ? { reason: 'expired' } : {}) });
    }
  }, []);

  useEffect(() => {
    if (state.status === 'loading') void refresh();
    // once, at start
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => onUnauthenticated(() => setState({ status: 'signed-out', reason: 'expired' })), []);

  /** Ends the session on the server; a session the server already forgot counts as signed out. */
  const signOut = useCallback(async () => {
    try {
      await identityApi.signOut();
    } catch (error) {
      if (asApiError(error).status !== 401) throw error;
    }
    setState({ status: 'signed-out', reason: 'signed-out' });
  }, []);

  const value = useMemo<Session>(() => {
    const me = state.status === 'signed-in' ? state.me : undefined;
    return {
      state,
      me,
      can: (permission) => me?.permissions.includes(permission) ?? false,
      refresh,
      signOut,
    };
  }, [state, refresh, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
