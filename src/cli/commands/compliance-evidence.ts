import type { Command } from 'commander';

/** Evidence packs, their offline check, and reports (filled in by the evidence step). */
export function registerComplianceEvidence(_compliance: Command): void {}
