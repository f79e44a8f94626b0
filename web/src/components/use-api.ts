import { useCallback, useEffect, useState } from 'react';
import { asApiError, type ApiError } from '../api/client';

export type Loaded<T> =
  | { status: 'loading'; data?: T }
  | { status: 'ok'; data: T }
  | { status: 'error'; error: ApiError; data?: T };

/**
 * Loads data for a page and reloads it when `deps` change or `reload()` is called; a load that a newer
 * one replaced is dropped. `load` receives an AbortSignal to pass to the client.
 */
export function useApi<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): Loaded<T> & { reload: () => void } {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({
      status: 'loading',
      ...(previous.data !== undefined ? { data: previous.data } : {}),
    }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error: asApiError(error) });
      },
    );
    return () => controller.abort();
    // the caller names what the load depends on
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
