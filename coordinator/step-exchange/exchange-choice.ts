import type { NamedTensor } from '../../shared/common/named-tensor.js';
import { factorBytes, factoredLayers } from '../../shared/exchange/factored-layers.js';
import type { SgdOptions, SgdState } from '../../shared/exchange/sgd-step.js';
import type { ModelDefinition } from '../../shared/model/model-graph.js';
import { CentralSgdExchange } from './central-sgd.js';
import { FactoredExchange } from './factored.js';
import type { StepExchange } from './step-exchange.js';

/** The step-exchange designs by name, as --exchange takes them; 'auto' picks one for the run. */
export const EXCHANGE_CHOICES = ['auto', 'central-sgd', 'factored'] as const;
export type ExchangeChoice = (typeof EXCHANGE_CHOICES)[number];
export type ExchangeDesign = Exclude<ExchangeChoice, 'auto'>;

/**
 * The design a run uses. auto: factored where the model has a layer worth factoring and a global batch's factors
 * are fewer bytes than its dense gradient (below about 127 samples for the course models), else central SGD.
 * Measured with bench-train (README): factored is the faster of the two wherever it is chosen.
 */
export function chooseExchange(choice: ExchangeChoice, model: ModelDefinition, globalBatch: number): ExchangeDesign {
  if (choice !== 'auto') return choice;
  const layers = factoredLayers(model);
  if (layers.length === 0) return 'central-sgd';
  const bytes = factorBytes(layers, globalBatch);
  return bytes.factored < bytes.dense ? 'factored' : 'central-sgd';
}

export interface ExchangeStart {
  readonly params: readonly NamedTensor[];
  readonly sgdState: SgdState;
}

export function createExchange(design: ExchangeDesign, start: ExchangeStart, model: ModelDefinition,
  sgd: Omit<SgdOptions, 'learningRate'>): StepExchange<unknown> {
  switch (design) {
    case 'central-sgd':
      return new CentralSgdExchange(start, model.params, sgd);
    case 'factored':
      return new FactoredExchange(start, model, sgd);
  }
}
