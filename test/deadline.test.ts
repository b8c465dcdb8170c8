import test from 'ava';
import { deadlineMs, deadlinesMissed, defaultDeadlinePolicy, repeatMissMs } from '../coordinator/pool/deadline.js';
import { MissedDeadlines } from '../coordinator/pool/missed-deadlines.js';
import { peerIdentity } from '../coordinator/pool/peer-identity.js';

const policy = { factor: 2, minMs: 500, warmupMs: 3000, maxMisses: 3 };

test('a deadline is factor x the predicted time, never under the floor; a first task gets the warm-up floor', (t) => {
  t.is(deadlineMs(policy, 100, { fixedMs: 200, perSampleMs: 10 }, []), 2400);
  t.is(deadlineMs(policy, 10, { fixedMs: 10, perSampleMs: 1 }, []), 500, 'tiny tasks: the floor');
  t.is(deadlineMs(policy, 100, undefined, []), 3000, 'nobody timed yet: the warm-up floor');
  t.is(deadlineMs(policy, 100, undefined, [{ fixedMs: 0, perSampleMs: 1 }, { fixedMs: 0, perSampleMs: 20 }]), 4000,
    'a newcomer is held to the slowest timed worker, with the warm-up floor under it');
  t.deepEqual(defaultDeadlinePolicy(1000, 10_000), { factor: 2, minMs: 2000, warmupMs: 10_000, maxMisses: 4 });
});

test('an unanswered task misses its deadline once, then once per repeat span', (t) => {
  t.is(deadlinesMissed(999, 1000, 3000), 0);
  t.is(deadlinesMissed(1000, 1000, 3000), 1);
  t.is(deadlinesMissed(3999, 1000, 3000), 1, 'merely late: counted once');
  t.is(deadlinesMissed(7000, 1000, 3000), 3, 'never answered: it keeps counting');
  t.is(deadlinesMissed(10, 0, 0), 0);
  t.is(repeatMissMs(policy, 500), 3000, 'not before another warm-up span');
  t.is(repeatMissMs(policy, 8000), 24_000, 'nor before three more deadlines');
});

test('missed deadlines count in a row per identity, survive a new registration, and clear on an answer in time', (t) => {
  const misses = new MissedDeadlines(3);
  const peer = peerIdentity({ host: 'h', pid: 7, name: 'silent' });
  const other = peerIdentity({ host: 'h', pid: 7, name: 'other' });
  t.deepEqual(misses.miss(peer), { inARow: 1, faulty: false });
  t.deepEqual(misses.miss(peer), { inARow: 2, faulty: false });
  misses.metDeadline(peer);
  t.is(misses.misses(peer), 0);
  misses.miss(peer);
  misses.miss(peer);
  t.false(misses.faulty(peer));
  // The same host, pid and name after a new hello is the same identity: the count goes on.
  t.deepEqual(misses.miss(peerIdentity({ host: 'h', pid: 7, name: 'silent' })), { inARow: 3, faulty: true });
  t.true(misses.faulty(peer));
  t.false(misses.faulty(other));
});
