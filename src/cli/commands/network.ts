import type { Command } from 'commander';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';

/** `gatehouse network …`: rules, checks, plan, apply (a rollout, with progress), drift, import. */
interface RuleView {
  id: string;
  kind: string;
  scope: { type: string; name: string };
  protocol: string;
  ports: string | null;
  source: string;
  description: string;
  owner: string;
  ticket: string | null;
  customer: string | null;
  environment: string | null;
}
interface Finding {
  check: string;
  rule: string;
  message: string;
}
interface PlanItem {
  action: string;
  what: string;
  rules: string[];
}
interface LayerPlanView {
  asset: string;
  layer: string;
  target: string;
  inSync: boolean;
  adds: PlanItem[];
  removals: PlanItem[];
  unknown: string[];
  blockers: string[];
  error: string | null;
}
interface PlanView {
  assets: number;
  layers: LayerPlanView[];
  brake: { stopped: boolean; removals: number; opens: number; observed: number; reasons: string[] };
}
interface RolloutView {
  id: string;
  state: string;
  waves: number;
  currentWave: number;
  stopReason: string | null;
  counts: Record<'pending' | 'queued' | 'succeeded' | 'failed', number>;
  targets: { asset: string; layer: string; wave: number; state: string; error: string | null }[];
}
interface ImportView {
  layers: {
    asset: string;
    layer: string;
    target: string;
    error: string | null;
    entries: { what: string; class: string; action: string }[];
    adds: string[];
  }[];
  summary: Record<string, number>;
}

type Filter = { customer?: string; environment?: string; asset?: string };

function printPlan(ctx: CliContext, plan: PlanView, driftOnly: boolean): void {
  ctx.out.result(plan, () => {
    const changing = plan.layers.filter((l) => !l.inSync);
    for (const layer of changing) {
      ctx.out.line(
        `${layer.asset} ${layer.layer} (${layer.target})${layer.error ? `: cannot read: ${layer.error}` : ''}`,
      );
      for (const a of layer.adds)
        ctx.out.line(`  + ${a.what}${a.rules.length ? `  [${a.rules.join(' ')}]` : ''}`);
      for (const r of layer.removals)
        ctx.out.line(`  - ${r.what}${r.rules.length ? `  [${r.rules.join(' ')}]` : ''}`);
      for (const u of layer.unknown) ctx.out.line(`  - unknown: ${u}`);
      for (const b of layer.blockers) ctx.out.line(`  ! ${b}`);
    }
    const inSync = plan.layers.length - changing.length;
    ctx.out.line(
      driftOnly
        ? `${plan.assets} assets: ${changing.length} layers drifted`
        : `${plan.assets} assets, ${plan.layers.length} layers: ${inSync} in sync, ${changing.length} to change`,
    );
    if (!driftOnly && plan.brake.stopped) {
      ctx.out.line(`Brake: ${plan.brake.reasons.join('; ')} — apply needs --confirm`);
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerNetwork(program: Command): void {
  const network = program
    .command('network')
    .description('Network rules as authoritative desired state over security groups and host nftables')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse network rules list --customer acme
  gatehouse network rules add --customer acme --environment production --scope asset-group:web-tier \\
      --protocol tcp --ports 8443 --source app-tier --description "partner API" --owner acme-ops --ticket NET-42
  gatehouse network rules edit <id> --ports 8444 --ticket NET-43
  gatehouse network plan --customer acme
  gatehouse network apply --customer acme            (stops at the brake unless --confirm)
  gatehouse network drift
  gatehouse network import --asset acme-p-web-1`,
    );

  const rules = network.command('rules').description('System rules (from rules/system) and customer rules');
  rules
    .command('list')
    .description('List rules with the checks’ findings')
    .option('--kind <kind>', 'system or customer')
    .option('--customer <name>')
    .option('--environment <name>')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const listed = await ctx
        .api()
        .get<{ rules: RuleView[]; findings: Finding[] }>(`/api/v1/network/rules${query(options)}`);
      ctx.out.result(listed, () => {
        ctx.out.table(
          listed.rules.map((r) => ({
            id: r.id,
            kind: r.kind,
            scope: `${r.scope.type}:${r.scope.name}`,
            rule: `${r.protocol} ${r.ports ?? ''}`.trim(),
            source: r.source,
            where: r.customer ? `${r.customer}/${r.environment ?? ''}` : '-',
            ticket: r.ticket,
            description: r.description,
          })),
          ['id', 'kind', 'scope', 'rule', 'source', 'where', 'ticket', 'description'],
        );
        for (const f of listed.findings) ctx.out.line(`finding ${f.check} on ${f.rule}: ${f.message}`);
      });
    });

  rules
    .command('add')
    .description('Add a customer rule; refused with the check id when a security check finds a problem')
    .requiredOption('--customer <name>')
    .requiredOption('--environment <name>')
    .requiredOption('--scope <type:name>', 'machine-type:web, asset-group:web-tier or asset:acme-p-web-1')
    .requiredOption('--protocol <protocol>', 'tcp, udp or icmp')
    .option('--ports <ports>', 'a port or range, like 443 or 8000-8100 (not for icmp)')
    .requiredOption('--source <source>', 'a CIDR, or a group: jumpboxes, app-tier, customer:acme:frontends')
    .requiredOption('--description <text>', 'why this opening exists')
    .requiredOption('--owner <owner>', 'who answers for it')
    .requiredOption('--ticket <ref>', 'the ticket that asked for it')
    .action(async (options: Record<string, string>, command: Command) => {
      const ctx = contextFor(command);
      const [type = '', ...name] = options.scope!.split(':');
      const body = {
        customer: options.customer,
        environment: options.environment,
        scope: { type, name: name.join(':') },
        protocol: options.protocol,
        ...(options.ports !== undefined
          ? { ports: /^\d+$/.test(options.ports) ? Number(options.ports) : options.ports }
          : {}),
        source: options.source,
        description: options.description,
        owner: options.owner,
        ticket: options.ticket,
      };
      const created = await ctx.api().post<RuleView>('/api/v1/network/rules', body);
      ctx.out.result(created, () =>
        ctx.out.line(`Added rule ${created.id}; it takes effect at the next apply`),
      );
    });

  rules
    .command('edit <id>')
    .description(
      'Edit a customer rule: only the options given change; checked like a new rule, and refused when the rule changed since --from-version',
    )
    .requiredOption('--ticket <ref>', 'the change ticket of this edit')
    .option('--from-version <n>', 'the version the edit is made from (default: the current one)')
    .option('--scope <type:name>', 'machine-type:web, asset-group:web-tier or asset:acme-p-web-1')
    .option('--protocol <protocol>', 'tcp, udp or icmp')
    .option('--ports <ports>', 'a port or range, like 443 or 8000-8100')
    .option('--source <source>', 'a CIDR, or a group: jumpboxes, app-tier, customer:acme:frontends')
    .option('--description <text>')
    .option('--owner <owner>')
    .action(async (id: string, options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const path = `/api/v1/network/rules/${encodeURIComponent(id)}`;
      const version =
        options.fromVersion !== undefined
          ? Number(options.fromVersion)
          : (await ctx.api().get<RuleView & { version: number }>(path)).version;
      const [type = '', ...name] = (options.scope ?? '').split(':');
      const body = {
        version,
        ticket: options.ticket,
        ...(options.scope ? { scope: { type, name: name.join(':') } } : {}),
        ...(options.protocol ? { protocol: options.protocol } : {}),
        ...(options.ports !== undefined
          ? { ports: /^\d+$/.test(options.ports) ? Number(options.ports) : options.ports }
          : {}),
        ...(options.source ? { source: options.source } : {}),
        ...(options.description ? { description: options.description } : {}),
        ...(options.owner ? { owner: options.owner } : {}),
      };
      const updated = await ctx.api().patch<RuleView & { version: number }>(path, body);
      ctx.out.result(updated, () =>
        ctx.out.line(
          `Updated rule ${updated.id} to version ${updated.version}: ${updated.protocol} ${updated.ports ?? ''} from ${updated.source}; it takes effect at the next apply`,
        ),
      );
    });

  rules
    .command('remove <id>')
    .description('Remove a customer rule (takes effect at the next apply)')
    .option('--ticket <ref>')
    .action(async (id: string, options: { ticket?: string }, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(`/api/v1/network/rules/${encodeURIComponent(id)}${query(options)}`);
      ctx.out.result({ removed: id }, () =>
        ctx.out.line(`Removed rule ${id}; it is closed at the next apply`),
      );
    });

  network
    .command('checks')
    .description('Check findings on the system rules (reported, not refused)')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { findings } = await ctx.api().get<{ findings: Finding[] }>('/api/v1/network/checks');
      ctx.out.result({ findings }, () => {
        if (findings.length === 0) ctx.out.line('No findings on the system rules');
        for (const f of findings) ctx.out.line(`${f.check} on ${f.rule}: ${f.message}`);
      });
    });

  const withFilter = (c: Command) =>
    c.option('--customer <name>').option('--environment <name>').option('--asset <name>');

  withFilter(
    network.command('plan').description('What an apply would change on each layer, and the brake’s verdict'),
  ).action(async (options: Filter, command: Command) => {
    const ctx = contextFor(command);
    printPlan(ctx, await ctx.api().get<PlanView>(`/api/v1/network/plan${query(options)}`), false);
  });

  withFilter(
    network.command('drift').description('The layers that differ from the desired state (report only)'),
  ).action(async (options: Filter, command: Command) => {
    const ctx = contextFor(command);
    const drift = await ctx.api().get<PlanView>(`/api/v1/network/drift${query(options)}`);
    printPlan(ctx, drift, true);
    if (drift.layers.length > 0) process.exitCode = 3;
  });

  withFilter(
    network.command('import').description('Classify what each layer holds today: the conversion plan'),
  ).action(async (options: Filter, command: Command) => {
    const ctx = contextFor(command);
    const view = await ctx.api().get<ImportView>(`/api/v1/network/import${query(options)}`);
    ctx.out.result(view, () => {
      for (const layer of view.layers) {
        ctx.out.line(
          `${layer.asset} ${layer.layer} (${layer.target})${layer.error ? `: cannot read: ${layer.error}` : ''}`,
        );
        for (const e of layer.entries) ctx.out.line(`  ${e.class.padEnd(8)} ${e.action.padEnd(6)} ${e.what}`);
        for (const a of layer.adds) ctx.out.line(`  new      add    ${a}`);
      }
      const s = view.summary;
      ctx.out.line(
        `${s.system ?? 0} system, ${s.customer ?? 0} customer, ${s.unknown ?? 0} unknown (removed by the first apply), ${s.adds ?? 0} to add`,
      );
    });
  });

  withFilter(
    network.command('apply').description('Apply the desired state in waves (canary first), with progress'),
  )
    .option('--confirm', 'go past the brake')
    .option('--waves <n>', 'waves after the canary')
    .option('--canary <n>', 'assets in the first wave')
    .option('--failure-threshold <share>', 'share of failed targets that stops the rollout (0-1)')
    .option('--no-wait', 'start the rollout and return')
    .action(async (options: Filter & Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const body = {
        ...(options.customer ? { customer: options.customer } : {}),
        ...(options.environment ? { environment: options.environment } : {}),
        ...(options.asset ? { asset: options.asset } : {}),
        ...(options.waves ? { waves: Number(options.waves) } : {}),
        ...(options.canary ? { canary: Number(options.canary) } : {}),
        ...(options.failureThreshold ? { failureThreshold: Number(options.failureThreshold) } : {}),
        confirm: options.confirm === true,
      };
      let rollout = await ctx.api().post<RolloutView>('/api/v1/network/rollouts', body);
      ctx.out.note(`rollout ${rollout.id}: ${rollout.targets.length} targets in ${rollout.waves} waves`);
      rollout = await follow(ctx, rollout, options.wait !== false);
      ctx.out.result(rollout, () => printRollout(ctx, rollout));
      if (rollout.state === 'stopped') process.exitCode = 2;
    });

  const rollouts = network.command('rollout').description('Rollouts started by apply');
  rollouts.command('show <id>').action(async (id: string, _o: unknown, command: Command) => {
    const ctx = contextFor(command);
    const rollout = await ctx.api().get<RolloutView>(`/api/v1/network/rollouts/${encodeURIComponent(id)}`);
    ctx.out.result(rollout, () => printRollout(ctx, rollout));
  });
  rollouts
    .command('resume <id>')
    .description('Resume a stopped rollout: its failed targets run again')
    .option('--no-wait', 'return at once')
    .action(async (id: string, options: { wait?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      let rollout = await ctx
        .api()
        .post<RolloutView>(`/api/v1/network/rollouts/${encodeURIComponent(id)}/resume`, {});
      rollout = await follow(ctx, rollout, options.wait !== false);
      ctx.out.result(rollout, () => printRollout(ctx, rollout));
      if (rollout.state === 'stopped') process.exitCode = 2;
    });
}

async function follow(ctx: CliContext, start: RolloutView, wait: boolean): Promise<RolloutView> {
  let rollout = start;
  let last = '';
  while (wait && rollout.state === 'running') {
    await sleep(500);
    rollout = await ctx.api().get<RolloutView>(`/api/v1/network/rollouts/${rollout.id}`);
    const c = rollout.counts;
    const line = `wave ${rollout.currentWave + 1}/${rollout.waves}: ${c.succeeded} applied, ${c.failed} failed, ${c.pending + c.queued} to go`;
    if (line !== last) ctx.out.note(line);
    last = line;
  }
  return rollout;
}

function printRollout(ctx: CliContext, rollout: RolloutView): void {
  ctx.out.table(
    rollout.targets.map((t) => ({
      wave: t.wave,
      asset: t.asset,
      layer: t.layer,
      state: t.state,
      error: t.error,
    })),
    ['wave', 'asset', 'layer', 'state', 'error'],
  );
  ctx.out.line(
    `rollout ${rollout.id}: ${rollout.state}${rollout.stopReason ? ` (${rollout.stopReason})` : ''}`,
  );
  if (rollout.state === 'stopped')
    ctx.out.line(`resume with: gatehouse network rollout resume ${rollout.id}`);
}
