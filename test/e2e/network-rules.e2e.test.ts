import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { FakeNftHost } from '../support/fake-nft-transport.js';
import { FakeLayers, seedFleet } from '../support/network-fleet.js';
import { screenshot, signInWithUi, useE2e, type E2eOperator } from './support/index.js';

/**
 * Customer network rules through the back-office, on a real server on PostgreSQL whose enforcement
 * targets are the fake EC2 at the SDK boundary (security groups) and in-memory nft hosts that keep
 * nft's all-or-nothing transactions: a rule edited in the page shows in the plan preview per layer and
 * reaches both layers when applied; a refused rule shows its check's message next to the field and
 * saves nothing.
 */
const WHERE = '/network?customer=acme&environment=production';

describe('web back-office: customer network rules', () => {
  const hosts = new Map(
    ['acme-p-web-1', 'acme-p-web-2', 'acme-p-db-1', 'acme-p-app-1'].map((n) => [n, new FakeNftHost()]),
  );
  const layers = new FakeLayers((name) => hosts.get(name));
  const e2e = useE2e({ network: { enforcers: layers } });
  let workers: Pick<JobRunner, 'stop'>;
  let nina: E2eOperator;
  let omar: E2eOperator;
  let pia: E2eOperator;
  let quinn: E2eOperator;
  let rosa: E2eOperator;
  let sam: E2eOperator;
  let ruleId: string;

  const customerRules = async () => {
    const listed = await e2e.server.t.call('GET', '/api/v1/network/rules?kind=customer');
    return listed.json<{
      rules: { id: string; ports: string | null; source: string; description: string; version: number }[];
    }>().rules;
  };

  beforeAll(async () => {
    const { t } = e2e.server;
    await seedFleet(t.gh);
    workers = t.gh.startWorkers();
    const created = await t.call('POST', '/api/v1/network/rules', {
      body: {
        customer: 'acme',
        environment: 'production',
        scope: { type: 'asset-group', name: 'web-tier' },
        protocol: 'tcp',
        ports: 8443,
        source: '198.51.100.0/24',
        description: 'partner API',
        owner: 'acme-ops',
        ticket: 'NET-42',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    ruleId = created.json<{ id: string }>().id;
    // the fleet converged once, so the page's plan shows only the edit
    const first = await t.call('POST', '/api/v1/network/rollouts', { body: { confirm: true } });
    expect(first.statusCode, first.body).toBe(201);
    const id = first.json<{ id: string }>().id;
    let state = 'running';
    for (let round = 0; round < 300 && state === 'running'; round++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const read = await t.call('GET', `/api/v1/network/rollouts/${id}`);
      state = read.json<{ state: string }>().state;
    }
    expect(state).toBe('completed');
    // one operator per test: a second sign-in of the same operator would wait for the next TOTP step
    nina = await e2e.operator({ name: 'nina', displayName: 'Nina Network', roles: ['network-admin'] });
    omar = await e2e.operator({ name: 'omar', displayName: 'Omar Network', roles: ['network-admin'] });
    pia = await e2e.operator({ name: 'pia', displayName: 'Pia Network', roles: ['network-admin'] });
    quinn = await e2e.operator({ name: 'quinn', displayName: 'Quinn Auditor', roles: ['auditor'] });
    rosa = await e2e.operator({ name: 'rosa', displayName: 'Rosa Network', roles: ['network-admin'] });
    sam = await e2e.operator({ name: 'sam', displayName: 'Sam Network', roles: ['network-admin'] });
  });

  afterAll(async () => {
    await workers?.stop();
  });

  it('a rule edited in the page is in the plan preview per layer, and the apply reaches both layers', async () => {
    const { page } = await e2e.page();
    await signInWithUi(page, nina, WHERE);
    await page.getByRole('heading', { name: 'Rules of acme/production' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: '198.51.100.0/24' });
    expect(await row.innerText()).toMatch(
      /web-tier[\s\S]*tcp[\s\S]*8443[\s\S]*partner API[\s\S]*NET-42[\s\S]*acme-ops/,
    );
    await screenshot(page, 'network-rules');

    await page.getByRole('button', { name: 'Edit rule tcp 8443 from 198.51.100.0/24' }).click();
    const form = page.getByRole('region', { name: /^Edit rule/ });
    await form.getByText('Editing version 1.').waitFor();
    await form.getByLabel('Ports', { exact: true }).fill('8080');
    await form.getByLabel('Ticket', { exact: true }).fill('NET-43');
    await form.getByText('The security checks pass.').waitFor();
    await screenshot(page, 'network-rule-edit');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Rule tcp 8080 from 198.51.100.0/24 updated (version 2)').waitFor();
    await expect.poll(() => row.innerText()).toMatch(/8080[\s\S]*NET-43/);

    // the plan preview: on each web server, both layers add 8080 and remove 8443
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByText('4 of 7 layers on 4 assets would change.').waitFor();
    for (const [layer, add, remove] of [
      ['Cloud security groups', 'tcp 8080 from 198.51.100.0/24', 'tcp 8443 from 198.51.100.0/24'],
      [
        'Host firewalls (nftables)',
        'rule tcp 8080 from 198.51.100.0/24',
        'rule tcp 8443 from 198.51.100.0/24',
      ],
    ] as const) {
      const section = page.getByRole('region', { name: layer });
      for (const asset of ['acme-p-web-1', 'acme-p-web-2']) {
        const card = section.getByRole('listitem').filter({ hasText: asset }).first();
        const text = await card.innerText();
        expect(text).toMatch(new RegExp(`Adds\\s+\\+ ${add}\\s+Removals\\s+− ${remove}`));
      }
      // the servers the edit does not reach are in sync, not listed as changing
      expect(await section.getByRole('listitem').filter({ hasText: 'acme-p-db-1' }).count()).toBe(0);
    }
    await screenshot(page, 'network-plan');

    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.getByText('Apply finished: 7 of 7 layers succeeded.').waitFor({ timeout: 60_000 });
    const progress = page.getByRole('region', { name: 'Apply progress' });
    expect((await progress.getByRole('cell', { name: 'succeeded' }).all()).length).toBe(7);
    await screenshot(page, 'network-apply');

    // what the layers hold now, and the evidence
    for (const sg of ['sg-00000000000000001', 'sg-00000000000000002']) {
      const ports = layers.ec2
        .ingress(sg)
        .filter((r) => r.CidrIpv4 === '198.51.100.0/24')
        .map((r) => r.FromPort);
      expect(ports).toEqual([8080]);
    }
    const table = JSON.stringify(hosts.get('acme-p-web-1')!.model.list('inet', 'gatehouse'));
    expect(table).toContain('8080');
    expect(table).not.toContain('8443');
    const events = await e2e.server.t.gh.store.db
      .selectFrom('audit_events')
      .select(['action', 'ticket', 'actor_name', 'target_id'])
      .where('action', 'in', ['network.rule.updated', 'network.rollout.started'])
      .orderBy('seq')
      .execute();
    expect(events.map((e) => [e.action, e.actor_name]).slice(1)).toEqual([
      ['network.rule.updated', nina.username],
      ['network.rollout.started', nina.username],
    ]);
    expect(events[1]).toMatchObject({ ticket: 'NET-43', target_id: ruleId });
  });

  it('a refused rule (5432 from 0.0.0.0/0) shows its check’s message next to the field and saves nothing', async () => {
    const before = await customerRules();
    const { page } = await e2e.page();
    await signInWithUi(page, omar, WHERE);
    await page.getByRole('button', { name: 'Add a rule' }).click();
    const form = page.getByRole('region', { name: 'Add a rule' });
    await form.getByLabel('Applies to', { exact: true }).selectOption('machine-type');
    await form.getByLabel('Machine type', { exact: true }).selectOption('db-host');
    await form.getByLabel('Ports', { exact: true }).fill('5432');
    await form.getByLabel('Source', { exact: true }).fill('0.0.0.0/0');
    await form.getByLabel('Description', { exact: true }).fill('reporting tool');
    await form.getByLabel('Ticket', { exact: true }).fill('NET-44');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await form.getByText('Not saved: fix what is marked below.').waitFor();

    const source = form.getByLabel('Source', { exact: true });
    expect(await source.getAttribute('aria-invalid')).toBe('true');
    // the first field with a message has the focus
    const focused = await page.evaluate<string | undefined>('document.activeElement?.id');
    expect(focused).toBe(await source.getAttribute('id'));
    const described = (await source.getAttribute('aria-describedby'))!.split(' ');
    const messages = await Promise.all(described.map((id) => page.locator(`[id="${id}"]`).innerText()));
    expect(messages.join('\n')).toMatch(
      /admin-port-source: port 5432 is an admin or database port: open it only from jumpboxes/,
    );
    expect(messages.join('\n')).toMatch(
      /world-open-port: 0\.0\.0\.0\/0 opens port 5432 to the whole internet/,
    );
    // the message sits with the field it is about, not with the others
    expect(await form.getByLabel('Ports', { exact: true }).getAttribute('aria-invalid')).toBeNull();
    await screenshot(page, 'network-rule-refused');

    expect(await customerRules()).toEqual(before);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Add a rule' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: '0.0.0.0/0' }).count()).toBe(0);
  });

  it('keyboard only: a rule is added, and Escape closes the form without saving', async () => {
    const { page } = await e2e.page();
    await signInWithUi(page, rosa, WHERE);
    const add = page.getByRole('button', { name: 'Add a rule' });
    const focusedText = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');
    const focusedLabel = () =>
      page.evaluate<string>(
        'document.activeElement?.labels?.[0]?.textContent ?? document.activeElement?.tagName ?? ""',
      );
    await add.focus();
    await page.keyboard.press('Enter');
    await expect.poll(focusedText).toBe('Add a rule');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('region', { name: 'Add a rule' }).count()).toBe(0);

    await add.focus();
    await page.keyboard.press('Enter');
    await expect.poll(focusedText).toBe('Add a rule');
    const typeInto = async (label: string, text: string) => {
      await page.keyboard.press('Tab');
      expect(await focusedLabel()).toBe(label);
      if (text) await page.keyboard.type(text);
    };
    await typeInto('Applies to', '');
    await typeInto('Asset group', 'web');
    await typeInto('Protocol', '');
    await typeInto('Ports', '8081');
    await typeInto('Source', '198.51.100.0/24');
    await typeInto('Description', 'status page');
    await typeInto('Owner', '');
    await typeInto('Ticket', 'NET-45');
    await page.getByText('The security checks pass.').waitFor();
    await page.keyboard.press('Enter');
    await page.getByText('Rule tcp 8081 from 198.51.100.0/24 created (version 1)').waitFor();
    await expect.poll(focusedText).toBe('Add a rule');
    expect((await customerRules()).map((r) => r.ports)).toContain('8081');
  });

  it('an edit that meets another editor’s change says so, and keeps both changes when saved again', async () => {
    const { page, errors } = await e2e.page();
    errors.expectHttpError(409, `/api/v1/network/rules/${ruleId}`);
    await signInWithUi(page, sam, WHERE);
    await page.getByRole('button', { name: 'Edit rule tcp 8080 from 198.51.100.0/24' }).click();
    const form = page.getByRole('region', { name: /^Edit rule/ });
    await form.getByText('Editing version 2.').waitFor();
    // meanwhile, someone else changes the description through the API
    const other = await e2e.server.t.call('PATCH', `/api/v1/network/rules/${ruleId}`, {
      body: { version: 2, description: 'partner API (v2 clients)', ticket: 'NET-50' },
    });
    expect(other.statusCode, other.body).toBe(200);

    await form.getByLabel('Ports', { exact: true }).fill('8082');
    await form.getByLabel('Ticket', { exact: true }).fill('NET-51');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.getByText('Someone else changed this rule').waitFor();
    await form
      .getByText(/Now: tcp 8080 from 198\.51\.100\.0\/24 \(partner API \(v2 clients\)\), version 3/)
      .waitFor();
    expect(await form.getByLabel('Ports', { exact: true }).inputValue()).toBe('8082');
    await form.getByText('The security checks pass.').waitFor();
    await screenshot(page, 'network-rule-conflict');
    await form.getByRole('button', { name: 'Keep my changes on top of version 3' }).click();
    await form.getByText('Editing version 3.').waitFor();
    expect(await form.getByLabel('Description', { exact: true }).inputValue()).toBe(
      'partner API (v2 clients)',
    );
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Rule tcp 8082 from 198.51.100.0/24 updated (version 4)').waitFor();
    const saved = (await customerRules()).find((r) => r.id === ruleId);
    expect(saved).toMatchObject({ ports: '8082', version: 4, description: 'partner API (v2 clients)' });
  });

  it('an auditor reads the rules and the plan, with nothing to edit or apply', async () => {
    const { page } = await e2e.page();
    await signInWithUi(page, quinn, WHERE);
    await page.getByRole('row').filter({ hasText: 'partner API' }).waitFor();
    expect(await page.getByRole('button', { name: /^(Add a rule|Edit rule|Delete rule)/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByText(/layers of 4 assets are in sync|layers on 4 assets would change/).waitFor();
    expect(await page.getByRole('button', { name: 'Apply', exact: true }).count()).toBe(0);
    await page.getByText('Applying it takes a network admin.').waitFor();
  });

  it('an environment without rules says so, and one without assets has nothing to apply', async () => {
    const { page } = await e2e.page({ width: 800, height: 900 });
    await signInWithUi(page, pia, '/network?customer=acme&environment=staging');
    await page.getByText('No customer rules here yet').waitFor();
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByText('This environment has no assets.').waitFor();
    await screenshot(page, 'network-empty');
  });
});
