import { useEffect, useId, useState } from 'react';
import { asApiError, type ApiError } from '../../api/client';
import {
  layers,
  networkApi,
  type Layer,
  type LayerPlan,
  type Plan,
  type Rollout,
  type Where,
} from '../../api/network';
import { ErrorAlert } from '../../components/error-alert';
import { EmptyState, Notice } from '../../components/status';

/**
 * What an apply would change in one customer environment, per layer and asset (adds and removals),
 * the brake's verdict, then the apply itself: a rollout whose progress is polled until it ends.
 */
const layerTitles: Record<Layer, string> = {
  cloud: 'Cloud security groups',
  host: 'Host firewalls (nftables)',
};

const POLL_MS = 1000;

function LayerSection({ layer, entries }: { layer: Layer; entries: LayerPlan[] }) {
  const headingId = useId();
  const changed = entries.filter((e) => !e.inSync);
  const inSync = entries.filter((e) => e.inSync).map((e) => e.asset);
  return (
    <section className="network-layer" aria-labelledby={headingId}>
      <h3 id={headingId}>{layerTitles[layer]}</h3>
      {entries.length === 0 ? <p>No asset here has this layer.</p> : null}
      {changed.length === 0 && entries.length > 0 ? <p>Every asset is in sync: nothing to change.</p> : null}
      {changed.length > 0 ? (
        <ul className="network-plan-assets">
          {changed.map((e) => (
            <li key={`${e.asset}-${e.layer}`} className="network-plan-asset">
              <p className="network-plan-asset-name">
                <strong>{e.asset}</strong> <span className="network-muted">{e.target}</span>
              </p>
              {e.error ? <p className="field-error">Could not read this layer: {e.error}</p> : null}
              {e.blockers.map((b) => (
                <p key={b} className="field-error">
                  Blocks the apply: {b}
                </p>
              ))}
              {e.adds.length > 0 ? (
                <>
                  <p className="network-plan-label">Adds</p>
                  <ul className="network-plan-items">
                    {e.adds.map((a) => (
                      <li key={a.what} className="network-add">
                        <span aria-hidden="true">+ </span>
                        {a.what}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
              {e.removals.length + e.unknown.length > 0 ? (
                <>
                  <p className="network-plan-label">Removals</p>
                  <ul className="network-plan-items">
                    {[...e.removals.map((r) => r.what), ...e.unknown].map((what) => (
                      <li key={what} className="network-remove">
                        <span aria-hidden="true">− </span>
                        {what}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {inSync.length > 0 && changed.length > 0 ? (
        <p className="network-muted">In sync: {inSync.join(', ')}</p>
      ) : null}
    </section>
  );
}

function RolloutProgress({ rollout }: { rollout: Rollout }) {
  const total = rollout.targets.length;
  const done = rollout.counts.succeeded + rollout.counts.failed;
  const label =
    rollout.state === 'running'
      ? `Applying: ${done} of ${total} layers done (wave ${rollout.currentWave + 1} of ${rollout.waves})`
      : rollout.state === 'completed'
        ? `Apply finished: ${rollout.counts.succeeded} of ${total} layers succeeded${rollout.counts.failed ? `, ${rollout.counts.failed} failed` : ''}.`
        : `Apply stopped: ${rollout.stopReason ?? 'stopped'}.`;
  return (
    <section className="network-rollout" aria-label="Apply progress">
      <p role="status" className={rollout.state === 'stopped' ? 'field-error' : 'network-rollout-state'}>
        {label}
      </p>
      <progress max={total} value={done} aria-label="Layers done">
        {done} of {total}
      </progress>
      <div className="table-wrap">
        <table>
          <caption className="network-caption">Each asset’s layers in this apply</caption>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">Layer</th>
              <th scope="col">Wave</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {rollout.targets.map((t) => (
              <tr key={`${t.asset}-${t.layer}`}>
                <td>{t.asset}</td>
                <td>{layerTitles[t.layer]}</td>
                <td>{t.wave + 1}</td>
                <td className={`network-state network-state-${t.state}`}>
                  {t.state}
                  {t.error ? `: ${t.error}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function PlanPanel({
  where,
  changedAt,
  canApply,
}: {
  where: Where;
  changedAt: number;
  /** network:apply; without it the plan is shown, not applied */
  canApply: boolean;
}) {
  const [plan, setPlan] = useState<Plan>();
  const [planning, setPlanning] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [rollout, setRollout] = useState<Rollout>();
  const [applying, setApplying] = useState(false);
  const [error, setError] = useState<ApiError>();
  const headingId = useId();
  const { customer, environment } = where;

  // a plan shown for other rules or another environment would mislead: drop it
  useEffect(() => {
    setPlan(undefined);
    setConfirm(false);
  }, [customer, environment, changedAt]);
  useEffect(() => setRollout(undefined), [customer, environment]);

  // poll the rollout until it ends
  const rolloutId = rollout?.state === 'running' ? rollout.id : undefined;
  useEffect(() => {
    if (!rolloutId) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      networkApi.rollout(rolloutId, controller.signal).then(setRollout, (e: unknown) => {
        if (!controller.signal.aborted) setError(asApiError(e));
      });
    }, POLL_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [rolloutId, rollout]);

  const preview = async () => {
    setPlanning(true);
    setError(undefined);
    setRollout(undefined);
    try {
      setPlan(await networkApi.plan({ customer, environment }));
      setConfirm(false);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setPlanning(false);
    }
  };

  const apply = async () => {
    setApplying(true);
    setError(undefined);
    try {
      setRollout(await networkApi.apply({ customer, environment }, confirm));
      setPlan(undefined);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setApplying(false);
    }
  };

  const changes = plan?.layers.filter((l) => !l.inSync).length ?? 0;
  const running = rollout?.state === 'running';
  return (
    <section className="network-plan" aria-labelledby={headingId}>
      <h2 id={headingId}>{canApply ? 'Plan and apply' : 'Plan'}</h2>
      <p>
        Rules take effect when they are applied: preview what an apply would change on each layer of each
        asset in {customer}/{environment}
        {canApply ? ', then apply it.' : '. Applying it takes a network admin.'}
      </p>
      <div className="form-actions">
        <button
          type="button"
          className="button-secondary"
          onClick={() => void preview()}
          disabled={planning || running}
        >
          {planning ? 'Reading the layers…' : 'Preview plan'}
        </button>
      </div>
      <ErrorAlert error={error} title={error?.status === 412 ? 'The apply did not start' : undefined} />
      {plan ? (
        <div className="network-plan-body">
          <p role="status">
            {plan.assets === 0
              ? 'This environment has no assets.'
              : changes === 0
                ? `All ${plan.layers.length} layers of ${plan.assets} assets are in sync: an apply changes nothing.`
                : `${changes} of ${plan.layers.length} layers on ${plan.assets} assets would change.`}
          </p>
          {plan.assets === 0 ? (
            <EmptyState title="Nothing to apply">
              <p>Add servers or databases to this environment in the inventory first.</p>
            </EmptyState>
          ) : (
            layers.map((layer) => (
              <LayerSection
                key={layer}
                layer={layer}
                entries={plan.layers.filter((l) => l.layer === layer)}
              />
            ))
          )}
          {plan.brake.stopped ? (
            <div className="alert alert-error">
              <p className="alert-title">This plan stops at the brake</p>
              <ul>
                {plan.brake.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
              {canApply ? (
                <label className="network-confirm">
                  <input type="checkbox" checked={confirm} onChange={(e) => setConfirm(e.target.checked)} /> I
                  have reviewed this plan: apply past the brake
                </label>
              ) : null}
            </div>
          ) : null}
          {plan.assets > 0 && canApply ? (
            <div className="form-actions">
              <button
                type="button"
                onClick={() => void apply()}
                disabled={applying || (plan.brake.stopped && !confirm)}
              >
                {applying ? 'Starting…' : 'Apply'}
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      {rollout ? <RolloutProgress rollout={rollout} /> : null}
      {rollout?.state === 'completed' && rollout.counts.failed === 0 ? (
        <Notice>
          The layers of {customer}/{environment} now hold its rules, verified after the apply.
        </Notice>
      ) : null}
    </section>
  );
}
