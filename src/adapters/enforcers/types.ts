import type { DesiredLayers } from '../../modules/network/domain/desired.js';
import type { Layer, LayerPlan } from '../../modules/network/domain/plan.js';

/**
 * One small interface for every enforcement layer. `observe` reads the layer and plans against the
 * desired state (it changes nothing); `apply` re-reads and makes the layer match; the reconciler
 * verifies by observing again. Both are idempotent: an apply after an apply changes nothing.
 */
export type { DesiredLayers };

export interface LayerEnforcer {
  layer: Layer;
  /** what the enforcer acts on, for people: `host acme-p-web-1 (192.0.2.21)`, `sg-0abc in eu-west-1` */
  target: string;
  observe(desired: DesiredLayers, options?: ObserveOptions): Promise<LayerPlan>;
  apply(desired: DesiredLayers): Promise<void>;
}

export interface ObserveOptions {
  /**
   * Also read what other owners allow on the layer (an import before the first apply): on a host,
   * the accept rules of every table's input chains, not only `inet gatehouse`.
   */
  includeForeign?: boolean;
}
