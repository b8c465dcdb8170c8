import { parseOptions } from '../../shared/config/options.js';
import { defineCommand } from './command.js';
import { COMMON_OPTIONS, COORDINATOR_OPTIONS, DATA_OPTIONS } from './option-tables.js';
import { openRunReport } from './run-report.js';
import { applyCheckpointFlags, checkCoordinatorFlags, coordinatorOptionsFrom, loadDataset, runCoordinator } from './run-coordinator.js';

const TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COORDINATOR_OPTIONS };
const SUMMARY = 'Run the coordinator alone: it binds --bind and waits for workers started elsewhere (`omniglot-ddp worker --connect`).';

export const coordinatorCommand = defineCommand({
  name: 'coordinator',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, sources, log }) {
    checkCoordinatorFlags(values);
    const data = await loadDataset(values, log);
    const options = await applyCheckpointFlags(coordinatorOptionsFrom(values, data, log), values, log);
    const report = await openRunReport({ command: 'coordinator', values, sources, data, options, log, out: process.stdout });
    try {
      return await runCoordinator(report.wrap(options), process.stdout);
    } finally {
      await report.close();
    }
  },
});
