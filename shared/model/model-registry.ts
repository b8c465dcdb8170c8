import { twoInputModel } from './kinds/two-input.js';
import { twoOutputModel } from './kinds/two-output.js';

/** Every model the project trains. Adding one: its file under kinds/ and a line here. The first is the default. */
export const MODEL_REGISTRY = [
  twoOutputModel,
  twoInputModel,
] as const;
