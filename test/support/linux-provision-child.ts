import { createLinuxSshConnector } from '../../src/adapters/connectors/linux-ssh/linux-ssh-connector.js';

/**
 * A Gatehouse stand-in that a test kills mid-provision: reads `{ target, spec }` as JSON on stdin and
 * creates the account (system tests only).
 */
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const { target, spec } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
await createLinuxSshConnector().createAccount(target, { ...spec, validUntil: new Date(spec.validUntil) });
console.log('created');
