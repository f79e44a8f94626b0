import type { Command } from 'commander';
import { createApiClient, type ApiClient } from './api-client.js';
import { createOutput, type Output } from './output.js';
import { loadConfig, type Config } from '../platform/config.js';

export interface GlobalOptions {
  json?: boolean;
  url?: string;
  token?: string;
}

/** What every command can reach: output, the API (thin-client commands) and configuration (local ones). */
export interface CliContext {
  out: Output;
  api(): ApiClient;
  config(overrides?: Record<string, unknown>): Config;
}

export function contextFor(command: Command): CliContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const out = createOutput(Boolean(globals.json));
  return {
    out,
    api: () => {
      const config = loadConfig();
      const url = globals.url ?? process.env.GATEHOUSE_URL ?? `http://${config.host}:${config.port}`;
      return createApiClient({ url, token: globals.token ?? process.env.GATEHOUSE_TOKEN });
    },
    config: (overrides) => loadConfig({ ...(overrides ? { overrides } : {}) }),
  };
}
