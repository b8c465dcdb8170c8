import { defineCommand } from './command.js';
import { COMMON_OPTIONS, COORDINATOR_OPTIONS, DATA_OPTIONS } from './option-tables.js';
import { openRunReport } from './run-report.js';
import { prepareCoordinator, runCoordinator } from './run-coordinator.js';
import { OBSERVE_OPTIONS } from './observe-options.js';

export const TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COORDINATOR_OPTIONS, ...OBSERVE_OPTIONS };
const SUMMARY = 'Run the coordinator alone: it binds --bind and waits for workers started elsewhere (`omniglot-ddp worker --connect`).';

export const coordinatorCommand = defineCommand({
  name: 'coordinator',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, sources, log }) {
    const { data, options } = await prepareCoordinator(values, log);
    const report = await openRunReport({ command: 'coordinator', values, sources, data, options, log, out: process.stdout });
    try {
      return await runCoordinator(report.wrap(options), process.stdout);
    } finally {
      await report.close();
    }
  },
});
