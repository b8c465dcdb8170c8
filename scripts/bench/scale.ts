/**
 * bench-scale (issue 11): a cluster on this machine. Each worker and the coordinator is a process in its own network
 * namespace, every host linked to a switch namespace by a veth pair shaped with tc tbf; the real coordinator, worker,
 * protocol, codec and ZeroMQ sockets move messages of the real sizes, and only the compute is replaced by a
 * calibrated delay (SimulatedCompute, a benchmark aid). Prints per configuration the step time, the bytes per step on
 * the busiest link direction, the coordinator's CPU per step, the weak-scaling efficiency and the ratio to the
 * bandwidth-optimal bound; the last line is one JSON object of every figure. Run `--help` for the flags.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { EXCHANGE_DESIGNS, isExchangeDesign, type ExchangeDesign } from '../../coordinator/step-exchange/designs.js';
import { elementCount } from '../../shared/common/named-tensor.js';
import { modelSpec } from '../../shared/model/model-spec.js';
import { availableCoreShare, measureWasmShardMs } from './scale/calibrate.js';
import { boundMs, chooseDilation, predictStepMs, scalingEfficiency } from './scale/link-model.js';
import { netnsUnavailable } from './scale/netns.js';
import { runConfig } from './scale/run-config.js';
import { createSwitchedCluster } from './scale/switched-cluster.js';

const HELP = `Usage: npm run bench-scale -- [flags]

  --workers <list>          worker counts (default 1,2,4,8,16,32,64; 1 is always run first, for the efficiency)
  --links <list>            link rates in Gbit/s, shaped with tc tbf (default 10; the issue's grid adds 1)
  --delays <list>           one-way link delays in ms, added by the benchmark's link model: this kernel has no netem
                            (each worker waits the delay after a message arrives and before it answers) (default 0.1)
  --computes <list>         wasm (--compute-ms, measured when not given) and/or gpu (--gpu-ms) (default wasm; the
                            defaults are what fits in about 10 minutes here: add --links 10,1 --computes wasm,gpu)
  --compute-ms <ms>         BENCHMARK AID: the simulated compute time of one worker's shard (default: measured wasm time)
  --gpu-ms <ms>             the GPU-like compute time of a shard (default 2, an estimate)
  --batch-per-worker <n>    samples per worker per step; the global batch grows with the workers (default 32)
  --steps <n>               measured steps per configuration, after --warmup (default 3)
  --warmup <n>              steps not measured (default 1)
  --exchange <name>         the StepExchange design: ${EXCHANGE_DESIGNS.join(', ')} (default central-sgd)
  --dilation <auto|k>       slow the clock by k (link rates / k, compute and delays x k); auto: as much as keeps the
                            run's CPU under 35% of the cores free now (measured at the start) (default auto)
  --timeout <s>             limit per configuration (default 300)
  --help`;

interface Options {
  readonly workers: readonly number[];
  readonly links: readonly number[];
  readonly delays: readonly number[];
  readonly computes: readonly ('wasm' | 'gpu')[];
  readonly computeMs: number | undefined;
  readonly gpuMs: number;
  readonly perWorkerBatch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly exchange: ExchangeDesign;
  readonly dilation: number | 'auto';
  readonly timeoutMs: number;
}

function fail(message: string): never {
  process.stderr.write(`bench-scale: ${message}\n`);
  process.exit(2);
}

function options(argv: readonly string[]): Options {
  let v;
  try {
    v = parseArgs({ args: [...argv], strict: true, options: { workers: { type: 'string', default: '1,2,4,8,16,32,64' },
      links: { type: 'string', default: '10' }, delays: { type: 'string', default: '0.1' }, computes: { type: 'string', default: 'wasm' },
      'compute-ms': { type: 'string' }, 'gpu-ms': { type: 'string', default: '2' }, 'batch-per-worker': { type: 'string', default: '32' },
      steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, exchange: { type: 'string', default: 'central-sgd' },
      dilation: { type: 'string', default: 'auto' }, timeout: { type: 'string', default: '300' }, help: { type: 'boolean', default: false } } }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const num = (flag: string, text: string, min: number, whole = false): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) fail(`--${flag}: '${text}' is not a ${whole ? 'whole ' : ''}number >= ${min}`);
    return n;
  };
  const list = (flag: string, text: string, min: number, whole = false): number[] => text.split(',').map((s) => num(flag, s, min, whole));
  const workers = [...new Set([1, ...list('workers', v.workers, 1, true)])].sort((a, b) => a - b);
  if (workers.at(-1)! > 250) fail('--workers: at most 250');
  const computes = v.computes.split(',').map((c) => (c === 'wasm' || c === 'gpu' ? c : fail(`--computes: '${c}' is not wasm or gpu`)));
  if (!isExchangeDesign(v.exchange)) fail(`--exchange: '${v.exchange}' is not one of ${EXCHANGE_DESIGNS.join(', ')}`);
  const steps = num('steps', v.steps, 2, true);
  return { workers, links: list('links', v.links, 0.001), delays: list('delays', v.delays, 0), computes,
    computeMs: v['compute-ms'] === undefined ? undefined : num('compute-ms', v['compute-ms'], 0), gpuMs: num('gpu-ms', v['gpu-ms'], 0),
    perWorkerBatch: num('batch-per-worker', v['batch-per-worker'], 1, true), steps, warmup: num('warmup', v.warmup, 1, true),
    exchange: v.exchange, dilation: v.dilation === 'auto' ? 'auto' : num('dilation', v.dilation, 1), timeoutMs: num('timeout', v.timeout, 1) * 1000 };
}

interface Result {
  readonly workers: number;
  readonly link_gbit: number;
  readonly delay_ms: number;
  readonly delay_model: 'benchmark (worker-side wait)';
  readonly link_model: 'tc tbf on veth';
  readonly compute: 'wasm' | 'gpu';
  readonly compute_ms: number;
  readonly exchange: ExchangeDesign;
  readonly step_ms: number;
  readonly bound_ms: number;
  readonly bound_ratio: number;
  readonly efficiency: number | null;
  readonly busiest_link_mb_per_step: number;
  readonly coordinator_cpu_ms_per_step: number;
  /** The coordinator's real CPU per step exceeds the modelled step: on one such host the step would take at least that. */
  readonly coordinator_cpu_bound: boolean;
  readonly host_cpu_utilisation: number;
  readonly time_dilation: number;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const why = netnsUnavailable(true);
  if (why) {
    process.stderr.write(`bench-scale: network namespaces with tc are not available here: ${why}. The in-process token-bucket link model is not built yet; nothing measured.\n`);
    process.exit(3);
  }
  const spec = modelSpec('two-output');
  const gradientBytes = spec.params.reduce((s, p) => s + elementCount(p.shape) * 4, 0);
  const wasmMs = o.computes.includes('wasm') ? o.computeMs ?? await measureWasmShardMs('two-output', o.perWorkerBatch) : 0;
  // Other users of this machine take part of its cores: what one spinning thread gets, times the cores, is what is left.
  const share = availableCoreShare();
  const cores = availableParallelism() * share;
  process.stdout.write(`bench-scale: ${spec.params.length} parameters tensors, M = ${(gradientBytes / 1e6).toFixed(2)} MB of gradients; `
    + `compute per ${o.perWorkerBatch}-sample shard: wasm ${wasmMs.toFixed(1)} ms${o.computeMs === undefined ? ' (CPU time of the real wasm pass, measured here, median of 5)' : ' (--compute-ms)'}, `
    + `gpu-like ${o.gpuMs} ms (estimate); exchange ${o.exchange}; `
    + `${availableParallelism()} cores, of which ${cores.toFixed(2)} free now (a spinning thread got ${(share * 100).toFixed(0)}% of a core; `
    + `the dilation counts on these); workers are processes, one per namespace\n`);
  const cluster = createSwitchedCluster(o.workers.at(-1)!);
  const cleanup = (): void => cluster.remove();
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  const results: Result[] = [];
  // Real CPU per worker per step, refined by each measurement; the first guess only picks the first dilation.
  let cpuMsPerWorkerStep = 90;
  const header = 'workers  link  delay  compute   dilation   step ms   bound ms  ratio  efficiency  busiest MB/step  coord CPU ms/step  host CPU';
  process.stdout.write(`${header}\n`);
  try {
    for (const link of o.links) {
      for (const delay of o.delays) {
        for (const compute of o.computes) {
          const computeMs = compute === 'wasm' ? wasmMs : o.gpuMs;
          let previous: { workers: number; stepMs: number } | undefined;
          let single: number | undefined;
          for (const workers of o.workers) {
            const bound = boundMs({ workers, computeMs, gradientBytes, bitsPerSecond: link * 1e9 });
            const predicted = predictStepMs({ workers, computeMs: computeMs + 2 * delay, boundMs: bound, ...(previous ? { previous } : {}) });
            const k = o.dilation === 'auto' ? chooseDilation({ workers, cpuMsPerWorkerStep, predictedStepMs: predicted, cores, utilisation: 0.35 }) : o.dilation;
            cluster.shape(link * 1e9 / k);
            let m;
            try {
              m = await runConfig(cluster, { workers, perWorkerBatch: o.perWorkerBatch, workerStepMs: k * (computeMs + 2 * delay),
                warmupSteps: o.warmup, measuredSteps: o.steps, exchange: o.exchange, modelKind: 'two-output', timeoutMs: o.timeoutMs });
            } catch (error) {
              process.stdout.write(`${String(workers).padStart(7)}  ${link} Gbit/s  not measured: ${(error as Error).message}\n`);
              continue;
            }
            const stepMs = m.stepMs / k;
            single ??= workers === 1 ? stepMs : undefined;
            const hostCpu = (m.coordinatorCpuMs + m.workersCpuMs) / (m.stepMs * cores);
            cpuMsPerWorkerStep = (m.coordinatorCpuMs + m.workersCpuMs) / workers;
            previous = { workers, stepMs };
            const r: Result = { workers, link_gbit: link, delay_ms: delay, delay_model: 'benchmark (worker-side wait)', link_model: 'tc tbf on veth',
              compute, compute_ms: round(computeMs, 2), exchange: o.exchange, step_ms: round(stepMs, 2), bound_ms: round(bound, 2),
              bound_ratio: round(stepMs / bound), efficiency: single === undefined ? null : round(scalingEfficiency(single, stepMs)),
              busiest_link_mb_per_step: round(m.busiestLinkBytes / 1e6, 2), coordinator_cpu_ms_per_step: round(m.coordinatorCpuMs, 1),
              coordinator_cpu_bound: m.coordinatorCpuMs > stepMs,
              host_cpu_utilisation: round(hostCpu, 2), time_dilation: k };
            results.push(r);
            process.stdout.write(`${String(workers).padStart(7)}  ${String(link).padStart(4)}  ${String(delay).padStart(5)}  ${compute.padEnd(7)} `
              + `${`x${k}`.padStart(9)} ${r.step_ms.toFixed(1).padStart(9)} ${r.bound_ms.toFixed(1).padStart(10)} ${r.bound_ratio.toFixed(2).padStart(6)} `
              + `${(r.efficiency === null ? '-' : `${(r.efficiency * 100).toFixed(0)}%`).padStart(11)} ${r.busiest_link_mb_per_step.toFixed(1).padStart(16)} `
              + `${`${r.coordinator_cpu_bound ? '*' : ''}${r.coordinator_cpu_ms_per_step.toFixed(1)}`.padStart(18)} ${`${(hostCpu * 100).toFixed(0)}%`.padStart(9)}\n`);
          }
        }
      }
    }
  } finally {
    cleanup();
  }
  process.stdout.write(['', 'step ms, bound ms: modelled time (measured / dilation). coord CPU: real CPU time of the coordinator process',
    'per step (not dilated; * where it exceeds the modelled step: a coordinator on this CPU could not keep that pace). host CPU: all processes\' CPU over the dilated step and the cores. Delays: added by the benchmark',
    '(each worker waits the one-way delay after its task arrives and before it answers), not by the kernel (no netem).', ''].join('\n'));
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

await main();
