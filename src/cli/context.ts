import type { Command } from 'commander';
import { createApiClient, type ApiClient } from './api-client.js';
import { createOutput, type Output } from './output.js';
import { loadConfig, type Config } from '../platform/config.js';
import { readStoredToken } from './commands/login-token-file.js';

export interface GlobalOptions {
  json?: boolean;
  url?: string;
  token?: string;
}

/** What every command can reach: output, the API (thin-client commands) and configuration (local ones). */
export interface CliContext {
  out: Output;
  api(): ApiClient;
  /** The API's address: --url, GATEHOUSE_URL, or the configured host and port. */
  baseUrl(): string;
  config(overrides?: Record<string, unknown>): Config;
}

export function contextFor(command: Command): CliContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const out = createOutput(Boolean(globals.json));
  const baseUrl = () => {
    if (globals.url ?? process.env.GATEHOUSE_URL) return (globals.url ?? process.env.GATEHOUSE_URL)!;
    const config = loadConfig();
    return `http://${config.host}:${config.port}`;
  };
  return {
    out,
    api: () =>
      createApiClient({
        url: baseUrl(),
        // the token kept by `gatehouse login` comes last
        token: globals.token ?? process.env.GATEHOUSE_TOKEN ?? readStoredToken(),
      }),
    baseUrl,
    config: (overrides) => loadConfig({ ...(overrides ? { overrides } : {}) }),
  };
}
