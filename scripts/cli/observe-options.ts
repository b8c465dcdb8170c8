import type { OptionTable } from './options.js';

/** Flags of `train` and `coordinator` that turn on the run's views. */
export const OBSERVE_OPTIONS = {
  dashboard: { type: 'string', help: 'serve the live dashboard and /metrics on [host:]port (loopback unless --dashboard-token)' },
  'dashboard-token': { type: 'string', help: 'token the dashboard asks for (?token= or Authorization: Bearer); needed for a non-loopback --dashboard' },
  'trace-steps': { type: 'string', help: 'write a Chrome trace (trace.json in the run folder) of global steps A:B, e.g. 10:20' },
  tensorboard: { type: 'boolean', help: 'write TensorBoard scalars (events.out.tfevents.*) to the run folder', default: true },
} as const satisfies OptionTable;
