import { DashboardServer } from '../../coordinator/dashboard/dashboard-server.js';
import { runFolderSource } from '../../coordinator/dashboard/run-folder-source.js';
import { dashboardConfigFrom } from '../../coordinator/observe/observe-flags.js';
import { DdpError } from '../../shared/common/errors.js';
import type { OptionTable } from './options.js';
import { defineCommand } from './command.js';
import { OBSERVE_OPTIONS } from './observe-options.js';
import { COMMON_OPTIONS } from './option-tables.js';

const TABLE = { ...COMMON_OPTIONS,
  dashboard: { ...OBSERVE_OPTIONS.dashboard, default: '127.0.0.1:8265' },
  'dashboard-token': OBSERVE_OPTIONS['dashboard-token'],
} as const satisfies OptionTable;
const SUMMARY = 'Serve the dashboard (and /metrics) of a finished run from its folder: omniglot-ddp dashboard runs/<run>.';

export const dashboardCommand = defineCommand({
  name: 'dashboard',
  summary: SUMMARY,
  options: TABLE,
  positionals: 'run folder',
  async run({ values, positionals, log }) {
    const dir = positionals[0];
    if (dir === undefined || positionals.length > 1) throw new DdpError('ERR_BAD_CONFIG', 'dashboard takes one run folder, e.g. `omniglot-ddp dashboard runs/<run>`');
    const config = dashboardConfigFrom(values.dashboard, values['dashboard-token']);
    const source = await runFolderSource(dir);
    const server = await DashboardServer.start(config, source);
    log.info({ dir, events: source.events, url: server.url, port: server.port }, 'serving a finished run');
    process.stdout.write(`dashboard of ${dir} at ${server.url} (Prometheus: /metrics); Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
});
