import { boundedText } from '../../shared/common/bounded-text.js';
import type { Logger } from '../../shared/common/logger.js';
import type { DatasetRequest, Message } from '../../shared/protocol/messages.js';
import type { DatasetServer } from '../dataset-server.js';
import type { Inbound } from './inbox.js';
import type { Membership } from './membership.js';
import type { RoundInFlight } from './round-runner.js';
import type { StragglerWatch } from './straggler-watch.js';

/** What the dispatch acts on: the pool's membership, deadlines, round in flight and replies. */
export interface InboundDesk {
  readonly members: Membership;
  readonly stragglers: StragglerWatch;
  readonly log: Logger;
  readonly datasetServer: DatasetServer | undefined;
  current(): RoundInFlight | undefined;
  sendMessage(to: { readonly routingId: Buffer }, message: Message): void;
}

/**
 * Acts on one inbound frame, as readInbound (inbox.ts) read it: hellos to membership, dataset requests to the
 * dataset server, answers to the round in flight, and every refusal logged with its code.
 */
export function dispatchInbound(desk: InboundDesk, routingId: Buffer, inbound: Inbound): void {
const { members, stragglers, log } = desk;
  switch (inbound.kind) {
    case 'bad-input': {
      const from = inbound.sender ? { worker: inbound.sender.id, workerName: inbound.sender.name } : { routingId: routingId.toString('hex') };
      members.refuseInput(inbound.sender, routingId, inbound.code, inbound.reason, from);
      return;
    }
    case 'hello': {
      const barred = stragglers.barred(inbound.hello);
      if (barred) {
        log.warn({ routingId: routingId.toString('hex'), workerName: inbound.hello.workerName, reason: barred,
          code: 'ERR_TOO_MANY_FAULTS' }, 'refused worker');
        desk.sendMessage({ routingId }, { type: 'refused', code: 'ERR_TOO_MANY_FAULTS', reason: barred });
        return;
      }
      members.admit(routingId, inbound.envelopeVersion, inbound.hello);
      return;
    }
    case 'dataset-request':
      answerDatasetRequest(desk, routingId, inbound.request, inbound.envelopeVersion);
      return;
    case 'unregistered': {
      const { type, message: m } = inbound;
      const from = { routingId: routingId.toString('hex') };
      if (type === 'gradients' || type === 'eval-result') {
        // Typically a worker declared lost that was only slow: its task went to another worker already.
        const task = m?.type === 'gradients' ? { task: m.taskId, step: m.stepId } : m?.type === 'eval-result' ? { task: m.taskId } : {};
        log.warn({ ...from, type, ...task, code: 'ERR_STALE_TASK' }, `dropped ${type} from a worker that is not registered (lost or never joined)`);
      } else {
        log.warn({ ...from, type, code: 'ERR_NOT_REGISTERED' }, 'refused: message from a worker that never said hello');
      }
      desk.sendMessage({ routingId }, { type: 'refused', code: 'ERR_NOT_REGISTERED', reason: 'say hello first' });
      return;
    }
  }
  const sender = inbound.sender;
  sender.lastSeenMs = performance.now();
  switch (inbound.kind) {
    case 'heartbeat':
      return;
    case 'answer': {
      const a = inbound.answer;
      stragglers.answered(a.taskId, sender);
      const verdict = desk.current()?.answer(sender, a) ?? { kind: 'stale' };
      if (verdict.kind === 'stale') {
        log.warn({ worker: sender.id, task: a.taskId, ...(a.type === 'gradients' ? { step: a.stepId } : {}), code: 'ERR_STALE_TASK' },
          `dropped ${a.type} for a task that is not pending`);
      } else if (verdict.kind === 'refused') {
        members.refuseInput(sender, routingId, verdict.code, verdict.reason, { worker: sender.id, task: a.taskId });
        desk.current()?.reclaim(sender, [a.taskId], 'refused');
      }
      return;
    }
    case 'goodbye':
      log.info({ worker: sender.id, workerName: sender.name, reason: boundedText(inbound.reason) }, 'worker left');
      members.drop(sender, 'left');
      return;
    case 'task-failed': {
      const f = inbound.failure;
      log.warn({ worker: sender.id, code: boundedText(f.code, 40), task: f.taskId, message: boundedText(f.message) }, 'worker failed a task');
      stragglers.failed(f.taskId, sender);
      desk.current()?.reclaim(sender, [f.taskId], 'failed');
      // A worker that fails every task would otherwise be handed its share back forever and pin the round.
      members.refuseInput(sender, routingId, 'ERR_COMPUTE', `worker failed task ${f.taskId}: ${f.message}`, { worker: sender.id, workerName: sender.name });
      return;
    }
  }
}

function answerDatasetRequest(desk: InboundDesk, routingId: Buffer, request: DatasetRequest, envelopeVersion: number): void {
const { log } = desk;
  const from = { routingId: routingId.toString('hex') };
  const answer = desk.datasetServer?.answer(from.routingId, request, envelopeVersion)
    ?? { type: 'refused', code: 'ERR_DATASET_UNAVAILABLE', reason: 'this coordinator does not serve its dataset' } as const;
  if (answer.type === 'refused') log.warn({ ...from, code: answer.code, reason: answer.reason }, 'refused a dataset request');
  else if (request.offset === 0) log.info({ ...from, bytes: answer.totalBytes }, 'sending the dataset to a worker without one');
  desk.sendMessage({ routingId }, answer);
}
