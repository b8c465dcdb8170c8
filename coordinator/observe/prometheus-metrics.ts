import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEvent } from './run-events.js';
import { coordinatorPhases } from './step-phases.js';
import { findStraggler } from './straggler.js';

const PREFIX = 'omniglot_ddp_';
/** Step and phase times run from a millisecond (coordinator phases) to tens of seconds (a stalled step). */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The run as Prometheus metrics, fed by the event stream: served on the dashboard's /metrics. Names follow the
 * Prometheus conventions (base units in the name, `_total` on counters); `worker` is the worker's name.
 */
export class RunMetrics {
  readonly registry = new Registry();
  private readonly steps = new Counter({ name: `${PREFIX}steps_total`, help: 'Optimizer steps applied.', registers: [this.registry] });
  private readonly samples = new Counter({ name: `${PREFIX}samples_total`, help: 'Training samples consumed by steps.', registers: [this.registry] });
  private readonly epochs = new Counter({ name: `${PREFIX}epochs_total`, help: 'Epochs completed (trained and evaluated).', registers: [this.registry] });
  private readonly loss = new Gauge({ name: `${PREFIX}loss`, help: 'Mean cross-entropy per head: split="step" for the last step, "train"/"test" for the last epoch.',
    labelNames: ['head', 'split'] as const, registers: [this.registry] });
  private readonly accuracy = new Gauge({ name: `${PREFIX}accuracy_ratio`, help: 'Accuracy per head (0..1), split as for omniglot_ddp_loss.',
    labelNames: ['head', 'split'] as const, registers: [this.registry] });
  private readonly learningRate = new Gauge({ name: `${PREFIX}learning_rate`, help: 'Learning rate of the last step.', registers: [this.registry] });
  private readonly lossWeight = new Gauge({ name: `${PREFIX}loss_weight`, help: 'Effective loss weight per head in the last step.',
    labelNames: ['head'] as const, registers: [this.registry] });
  private readonly stepSeconds = new Histogram({ name: `${PREFIX}step_duration_seconds`, help: 'Wall time of a step at the coordinator.',
    buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly workerPhase = new Histogram({ name: `${PREFIX}worker_phase_duration_seconds`, help: 'Time a worker spent in each phase of a step.',
    labelNames: ['worker', 'phase'] as const, buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly coordinatorPhase = new Histogram({ name: `${PREFIX}coordinator_phase_duration_seconds`,
    help: 'Time the coordinator spent in each phase of a step (wait_shards: until the last shard arrived; update: reduce, optimizer and broadcast).',
    labelNames: ['phase'] as const, buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly workerSamples = new Counter({ name: `${PREFIX}worker_samples_total`, help: 'Training samples a worker computed.',
    labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly workerRate = new Gauge({ name: `${PREFIX}worker_samples_per_second`, help: 'A worker\'s compute rate (running mean).',
    labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly heartbeatAge = new Gauge({ name: `${PREFIX}worker_heartbeat_age_seconds`, help: 'Time since the coordinator last heard from a live worker.',
    labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly stragglerSteps = new Counter({ name: `${PREFIX}worker_straggler_steps_total`, help: 'Steps in which this worker computed longest.',
    labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly bytes = new Counter({ name: `${PREFIX}bytes_total`, help: 'Bytes on the coordinator socket, direction="sent"|"received".',
    labelNames: ['direction', 'worker'] as const, registers: [this.registry] });
  private readonly liveWorkers = new Gauge({ name: `${PREFIX}live_workers`, help: 'Workers ready to take tasks.', registers: [this.registry] });
  private readonly joins = new Counter({ name: `${PREFIX}worker_joins_total`, help: 'Workers admitted.', labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly losses = new Counter({ name: `${PREFIX}worker_losses_total`, help: 'Workers declared lost, by code.', labelNames: ['worker', 'code'] as const, registers: [this.registry] });
  private readonly faults = new Counter({ name: `${PREFIX}refused_inputs_total`, help: 'Inputs refused, by error code (worker="" when the sender was not registered).',
    labelNames: ['code', 'worker'] as const, registers: [this.registry] });
  private readonly reassigned = new Counter({ name: `${PREFIX}reassigned_samples_total`, help: 'Samples taken back from a worker and given to others.',
    labelNames: ['worker'] as const, registers: [this.registry] });
  private readonly checkpoints = new Counter({ name: `${PREFIX}checkpoints_total`, help: 'Checkpoints written.', registers: [this.registry] });
  private readonly live = new Set<string>();

  observe(e: RunEvent): void {
    switch (e.kind) {
      case 'step': {
        this.steps.inc();
        this.samples.inc(e.samples);
        this.learningRate.set(e.learningRate);
        for (const [head, w] of Object.entries(e.lossWeights)) this.lossWeight.set({ head }, w);
        for (const h of e.heads) {
          this.loss.set({ head: h.head, split: 'step' }, h.loss);
          this.accuracy.set({ head: h.head, split: 'step' }, h.accuracy);
        }
        this.stepSeconds.observe(e.stepMs / 1000);
        const shards = e.shards ?? [];
        for (const s of shards) {
          this.workerSamples.inc({ worker: s.worker }, s.samples);
          this.workerPhase.observe({ worker: s.worker, phase: 'compute' }, s.computeMs / 1000);
          for (const [phase, ms] of Object.entries(s.phases ?? {})) {
            if (phase !== 'compute' && typeof ms === 'number') this.workerPhase.observe({ worker: s.worker, phase }, ms / 1000);
          }
        }
        const straggler = findStraggler(shards);
        if (straggler) this.stragglerSteps.inc({ worker: straggler.worker });
        for (const [phase, ms] of Object.entries(coordinatorPhases(e))) this.coordinatorPhase.observe({ phase }, ms / 1000);
        return;
      }
      case 'epoch':
        this.epochs.inc();
        for (const [split, heads] of [['train', e.train], ['test', e.test]] as const) {
          for (const h of heads) {
            this.loss.set({ head: h.head, split }, h.loss);
            this.accuracy.set({ head: h.head, split }, h.accuracy);
          }
        }
        return;
      case 'worker-joined':
        this.joins.inc({ worker: e.worker });
        this.live.add(e.worker);
        this.liveWorkers.set(this.live.size);
        return;
      case 'worker-lost':
      case 'worker-left':
        if (e.kind === 'worker-lost') this.losses.inc({ worker: e.worker, code: e.code });
        this.live.delete(e.worker);
        this.liveWorkers.set(this.live.size);
        this.heartbeatAge.remove({ worker: e.worker });
        return;
      case 'worker-status':
        for (const w of e.workers) {
          this.heartbeatAge.set({ worker: w.worker }, w.silentMs / 1000);
          if (w.samplesPerSecond > 0) this.workerRate.set({ worker: w.worker }, w.samplesPerSecond);
        }
        return;
      case 'input-refused':
        this.faults.inc({ code: e.code, worker: e.worker ?? '' });
        return;
      case 'task-reassigned':
        this.reassigned.inc({ worker: e.from }, e.samples);
        return;
      case 'wire':
        this.bytes.inc({ direction: e.direction === 'in' ? 'received' : 'sent', worker: e.worker ?? '' }, e.bytes);
        return;
      case 'checkpoint-written':
        this.checkpoints.inc();
        return;
      case 'run-started':
      case 'run-ended':
      case 'resumed':
        return;
    }
  }

  /** The text exposition. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
