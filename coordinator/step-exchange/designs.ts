import type { NamedTensor } from '../../shared/common/named-tensor.js';
import type { ModelDefinition } from '../../shared/model/model-graph.js';
import { CentralSgdExchange } from './central-sgd.js';
import { FactoredExchange } from './factored.js';
import type { StepExchange } from './step-exchange.js';
import type { SgdOptions, SgdState } from './sum-and-sgd.js';

/** What every design starts from: the weights of record and optimizer state (fresh or resumed), the model, the SGD terms. */
export interface ExchangeStart {
  readonly params: readonly NamedTensor[];
  readonly sgdState: SgdState;
  readonly model: ModelDefinition;
  readonly sgd: Omit<SgdOptions, 'learningRate'>;
}

/** Every StepExchange design, by the name a run or a benchmark (`--exchange`) picks it with. */
const DESIGNS = {
  'central-sgd': (s: ExchangeStart): StepExchange<unknown> => new CentralSgdExchange({ params: s.params, sgdState: s.sgdState }, s.model.params, s.sgd),
  factored: (s: ExchangeStart): StepExchange<unknown> => new FactoredExchange({ params: s.params, sgdState: s.sgdState }, s.model, s.sgd),
} as const satisfies Readonly<Record<string, (start: ExchangeStart) => StepExchange<unknown>>>;

export type ExchangeDesign = keyof typeof DESIGNS;
export const EXCHANGE_DESIGNS = Object.keys(DESIGNS) as readonly ExchangeDesign[];

export function isExchangeDesign(name: string): name is ExchangeDesign {
  return Object.hasOwn(DESIGNS, name);
}

export function createExchange(design: ExchangeDesign, start: ExchangeStart): StepExchange<unknown> {
  return DESIGNS[design](start);
}
