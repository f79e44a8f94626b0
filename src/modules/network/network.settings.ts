import path from 'node:path';
import type { Config } from '../../platform/config.js';
import { packageRoot } from '../../platform/paths.js';
import type { CheckPolicy } from './domain/checks.js';
import { parsePorts, type PortRange } from './domain/rule.js';
import type { NetworkServiceDeps } from './network.service.js';
import { loadSystemRules } from './system-rule-files.js';
import type { SystemRuleSet } from './domain/system-rules.js';
import { ConfigError } from '../../platform/errors.js';

/** The network module's settings from the configuration, and its system rules from their folder. */
export function networkSettings(config: Config['network']): NetworkServiceDeps['settings'] {
  const adminPorts: PortRange[] = config.adminPorts.map((text) => {
    const range = parsePorts(text);
    if (!range) throw new ConfigError(`network.adminPorts: '${text}' is not a port or range within 1-65535`);
    return range;
  });
  const checkPolicy: CheckPolicy = {
    adminPorts,
    adminSources: config.adminSources,
    publicPorts: config.publicPorts,
    minPrefix: { 4: config.minPrefixV4, 6: config.minPrefixV6 },
    maxPortSpan: config.maxPortSpan,
  };
  return {
    checkPolicy,
    brake: {
      maxRemoveShare: config.brakeRemoveShare,
      maxOpenShare: config.brakeOpenShare,
      minChanges: config.brakeMinChanges,
    },
    groupSecurityGroups: new Map(Object.entries(config.groupSecurityGroups)),
    rollout: {
      canary: config.canary,
      waves: config.waves,
      failureThreshold: config.failureThreshold,
      attempts: config.attempts,
      pollMs: 250,
    },
    concurrency: config.concurrency,
  };
}

export function systemRulesFor(config: Config['network']): SystemRuleSet[] {
  return loadSystemRules(config.systemRulesDir ?? path.join(packageRoot, 'rules', 'system'));
}
