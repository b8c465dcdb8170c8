import { BACKEND_CHOICES } from '../../shared/compute/backend.js';
import { MODEL_KINDS } from '../../shared/model/model-spec.js';
import { LOSS_WEIGHTING_STRATEGIES } from '../../coordinator/loss-weighting.js';
import { EXCHANGE_CHOICES } from '../../coordinator/step-exchange/exchange-choice.js';
import { LR_SCALINGS } from '../../coordinator/lr-schedule.js';
import type { OptionTable } from './options.js';
import { EXPECTED, TRAIN_DRAWERS } from '../../shared/dataset/omniglot-layout.js';

/** The seeded generators take 32 bits of the seed (mulberry32), and the wire carries it exactly below 2^53. */
export const MAX_SEED = 0xffff_ffff;
/** The most training images any --alphabets can give; the exact split size is checked once the dataset is loaded. */
const MAX_TRAIN_IMAGES = EXPECTED.background.characters * TRAIN_DRAWERS;
/** The wire's uint32 fields (epoch, heartbeat interval). */
const MAX_UINT32 = 0xffff_ffff;

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  config: { type: 'string', help: 'JSON file of flag values (keys are long flag names)' },
  'log-level': { type: 'string', help: 'pino log level', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] },
  help: { type: 'boolean', help: 'print this help', default: false },
} as const satisfies OptionTable;

/** Where the data comes from and which model runs; coordinator and workers must agree on these. */
export const DATA_OPTIONS = {
  'data-dir': { type: 'string', help: 'folder holding images_background.zip', env: 'OMNIGLOT_DIR', path: 'folder' },
  'cache-dir': { type: 'string', help: 'where decoded datasets are cached (default ~/.cache/omniglot-ddp)', path: 'output-folder' },
  alphabets: { type: 'int', help: 'use only the first N alphabets (quick runs)', min: 1, max: EXPECTED.background.alphabets },
  download: { type: 'boolean', help: 'download the dataset when no folder is given and none is cached', default: true },
  model: { type: 'string', help: 'which course model', default: 'two-output', choices: MODEL_KINDS },
} as const satisfies OptionTable;

export const COMPUTE_OPTIONS = {
  backend: { type: 'string', help: 'tfjs backend; auto picks tfjs-node-gpu, tfjs-node, wasm, cpu in that order', default: 'auto', choices: BACKEND_CHOICES },
  'micro-batch': { type: 'int', help: 'samples per forward/backward call inside a worker', default: 64, min: 1, max: MAX_TRAIN_IMAGES },
} as const satisfies OptionTable;

export const COORDINATOR_OPTIONS = {
  bind: { type: 'string', help: 'ZeroMQ endpoint the coordinator binds', default: 'tcp://127.0.0.1:5555' },
  seed: { type: 'int', help: 'seed of the initial weights and the shuffle', default: 42, min: 0, max: MAX_SEED },
  epochs: { type: 'int', help: 'epochs to train', default: 10, min: 1, max: MAX_UINT32 },
  'batch-size': { type: 'int', help: 'global batch size, split across the workers (at most the training split)', default: 32, min: 1, max: MAX_TRAIN_IMAGES },
  'batch-per-worker': { type: 'int', help: 'samples per worker per step: the global batch is this x --workers (train) or x --min-workers (coordinator); replaces --batch-size', min: 1, max: MAX_TRAIN_IMAGES },
  lr: { type: 'number', help: 'SGD learning rate (with --lr-scaling linear: the rate of a --base-batch global batch)', default: 0.01, min: 0 },
  'lr-scaling': { type: 'string', help: 'linear: lr x global batch / --base-batch, ramped up from --lr over --warmup-epochs (Goyal et al. 2017)', default: 'none', choices: LR_SCALINGS },
  'base-batch': { type: 'int', help: 'the global batch --lr is meant for, with --lr-scaling linear', default: 32, min: 1 },
  'warmup-epochs': { type: 'number', help: 'epochs over which --lr-scaling linear ramps the rate up from --lr', default: 0, min: 0 },
  target: { type: 'string', help: 'test accuracy per head whose first reaching summary.json reports as time-to-accuracy', default: 'alphabet=0.25,character=0.28' },
  momentum: { type: 'number', help: 'SGD momentum (0: plain SGD)', default: 0, min: 0, below: 1 },
  'weight-decay': { type: 'number', help: 'L2 weight decay', default: 0, min: 0 },
  'lr-schedule': { type: 'string', help: 'constant, step:<epochs>:<gamma> or cosine[:<min factor>]', default: 'constant' },
  'loss-weights': { type: 'string', help: 'per-head loss weights, e.g. alphabet=0.33,character=0.67', default: 'alphabet=1,character=1' },
  'loss-weighting': { type: 'string', help: 'how the weights are applied', default: 'fixed', choices: LOSS_WEIGHTING_STRATEGIES },
  augment: { type: 'boolean', help: 'random shifts, rotations and scaling of training images', default: false },
  exchange: { type: 'string', help: 'step exchange: central-sgd (gradients in, weights out), factored (sufficient factors; replicas take the step, proven by checksum) or auto (factored where its bytes are fewer)', default: 'auto', choices: EXCHANGE_CHOICES },
  'min-workers': { type: 'int', help: 'workers needed before a step starts', default: 1, min: 1 },
  'heartbeat-ms': { type: 'int', help: 'heartbeat interval', default: 1000, min: 10, max: MAX_UINT32 },
  'worker-timeout': { type: 'number', help: 'seconds of silence after which a worker is declared lost', default: 10, min: 0.1 },
  insecure: { type: 'boolean', help: 'allow a non-loopback bind without CURVE', default: false },
  'run-dir': { type: 'string', help: 'run folder for config, metrics.jsonl, plots and the exported model (default runs/<timestamp>-<model>)', path: 'output-folder' },
  'checkpoint-dir': { type: 'string', help: 'folder for checkpoints (none: no checkpoints)', path: 'output-folder' },
  'checkpoint-every': { type: 'int', help: 'steps between checkpoints (one is also written at each epoch end and on stop)', default: 200, min: 1 },
  'checkpoint-keep': { type: 'int', help: 'newest checkpoints kept', default: 3, min: 1 },
  resume: { type: 'boolean', help: 'continue from the newest valid checkpoint in --checkpoint-dir (a fresh run, with a warning, when there is none)', default: false },
  'curve-secret-key-file': { type: 'string', help: 'CURVE: this side\'s secret key file (from `omniglot-ddp keys`); turns CURVE on' },
  'curve-public-key-file': { type: 'string', help: 'CURVE: this side\'s public key file, checked against the secret key (optional)' },
  'allow-list': { type: 'string', help: 'CURVE: file of worker public keys allowed to join, one Z85 key per line, # comments' },
  'save-weights': { type: 'string', help: 'write the final weights to <file> (raw float32) and <file>.json (names, shapes)', path: 'output-file' },
} as const satisfies OptionTable;

export const WORKER_OPTIONS = {
  connect: { type: 'string', help: 'coordinator endpoint', default: 'tcp://127.0.0.1:5555' },
  name: { type: 'string', help: 'worker name in logs (default host:pid)' },
  'curve-secret-key-file': { type: 'string', help: 'CURVE: this worker\'s secret key file; needs --coordinator-key' },
  'curve-public-key-file': { type: 'string', help: 'CURVE: this worker\'s public key file, checked against the secret key (optional)' },
  'coordinator-key': { type: 'string', help: 'CURVE: the coordinator\'s public key, as Z85 text or a file holding it' },
  'rejoin-timeout': { type: 'number', help: 'seconds to keep trying to rejoin after the coordinator stops to be resumed (SIGTERM); 0: exit at once', default: 600, min: 0 },
  'exit-with-parent': { type: 'boolean', help: 'exit when the process that started this worker exits, instead of waiting to rejoin (train sets it for its local workers)', default: false },
} as const satisfies OptionTable;

export const TRAIN_OPTIONS = {
  workers: { type: 'int', help: 'local worker processes to start', default: 2, min: 1 },
  curve: { type: 'boolean', help: 'use CURVE with fresh keys made for this run and its local workers', default: false },
} as const satisfies OptionTable;

/** How `launch` finds its role; everything else it passes on to the coordinator or worker it becomes. */
export const LAUNCH_OPTIONS = {
  cluster: { type: 'string', help: 'where the role comes from: auto (Slurm, then Kubernetes, then env), slurm, kubernetes or env', default: 'auto', choices: ['auto', 'slurm', 'kubernetes', 'env'] },
  role: { type: 'string', help: 'coordinator or worker (Kubernetes coordinator Job, plain environments; Slurm decides by task number)', choices: ['coordinator', 'worker'] },
  coordinator: { type: 'string', help: 'the coordinator\'s host[:port] as workers reach it (Kubernetes: its headless Service DNS name); default 127.0.0.1' },
  port: { type: 'int', help: 'coordinator port (default 5555; under Slurm 20000 + job id mod 20000)', min: 1 },
  'worker-index': { type: 'int', help: 'this worker\'s number, for its key (worker-N.key) and name; Slurm and Kubernetes set it', min: 1 },
  'keys-dir': { type: 'string', help: 'CURVE keys from `omniglot-ddp keys` (coordinator.key/.pub, worker-N.key, allow-list.txt), on a folder every node reads or a mounted Secret' },
} as const satisfies OptionTable;
