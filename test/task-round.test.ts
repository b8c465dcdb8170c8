import test from 'ava';
import { TaskRound } from '../coordinator/pool/task-round.js';
import { taskId, workerId } from '../shared/protocol/ids.js';

test('a round takes each piece once, refuses answers from the wrong worker, and hands back a lost piece', async (t) => {
  const round = new TaskRound<string>('step', 5);
  const a = workerId('a');
  const b = workerId('b');
  round.assign(taskId(1), a, { offset: 0, indices: Uint32Array.from([10, 11]) });
  round.assign(taskId(2), b, { offset: 2, indices: Uint32Array.from([12, 13, 14]) });
  t.is(round.complete(taskId(2), a, 3, 'x'), 'wrong-worker');
  t.is(round.complete(taskId(2), b, 2, 'x'), 'wrong-count');
  t.is(round.complete(taskId(2), b, 3, 'second'), 'accepted');
  t.is(round.complete(taskId(2), b, 3, 'again'), 'unknown-task', 'a duplicate answer is not counted twice');
  const piece = round.reclaim(taskId(1));
  t.deepEqual([...piece!.indices], [10, 11]);
  t.is(round.complete(taskId(1), a, 2, 'late'), 'unknown-task', 'the lost worker\'s late answer is dropped');
  round.assign(taskId(3), b, piece!);
  t.is(round.complete(taskId(3), b, 2, 'first'), 'accepted');
  t.deepEqual(await round.finished, ['first', 'second'], 'results come out in batch order, not arrival order');
});
