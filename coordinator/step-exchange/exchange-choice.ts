import { DdpError } from '../../shared/common/errors.js';
import { factorBytes, factoredLayers } from '../../shared/exchange/factored-layers.js';
import type { ModelDefinition } from '../../shared/model/model-graph.js';
import { EXCHANGE_DESIGNS, type ExchangeDesign } from './designs.js';

/** The step-exchange designs by name, as --exchange takes them; 'auto' picks one for the run. */
export const EXCHANGE_CHOICES: readonly ExchangeChoice[] = ['auto', ...EXCHANGE_DESIGNS];
export type ExchangeChoice = 'auto' | ExchangeDesign;

/**
 * The design a run uses. auto: factored where the model has a layer worth factoring and a global batch's factors
 * are fewer bytes than its dense gradient (below about 127 samples for the course models) and SGD has no momentum,
 * else central SGD. @throws DdpError ERR_BAD_CONFIG for factored with momentum.
 * bench-train compares the two (README, Benchmarks).
 */
export function chooseExchange(choice: ExchangeChoice, model: ModelDefinition, globalBatch: number, momentum = 0): ExchangeDesign {
  // A join or resync would carry the velocity beside the weights, twice what the wire limits allow a frame.
  if (choice === 'factored' && momentum > 0) throw new DdpError('ERR_BAD_CONFIG', '--exchange factored needs --momentum 0 (plain SGD); use central-sgd or auto');
  if (choice !== 'auto') return choice;
  if (momentum > 0) return 'central-sgd';
  const layers = factoredLayers(model);
  if (layers.length === 0) return 'central-sgd';
  const bytes = factorBytes(layers, globalBatch);
  return bytes.factored < bytes.dense ? 'factored' : 'central-sgd';
}
