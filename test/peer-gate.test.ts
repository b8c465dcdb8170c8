import test from 'ava';
import { PeerGate } from '../coordinator/pool/peer-gate.js';
import { peerIdentity } from '../coordinator/pool/peer-identity.js';
import { TokenBucket } from '../coordinator/pool/token-bucket.js';

const gate = (maxTracked = 100) => new PeerGate({ maxFaults: 3, helloBurst: 2, hellosPerSecond: 0.5, maxTracked });
const alice = peerIdentity({ host: 'h', pid: 1, name: 'alice' });
const bob = peerIdentity({ host: 'h', pid: 1, name: 'bob' });

test('a token bucket allows its burst, then its rate', (t) => {
  const bucket = new TokenBucket(3, 2, 0);
  t.deepEqual([0, 0, 0, 0].map((ms) => bucket.take(ms)), [true, true, true, false]);
  t.false(bucket.take(400), 'less than one token refilled');
  t.true(bucket.take(500));
  t.false(bucket.take(500));
  t.deepEqual([10_000, 10_000, 10_000, 10_000].map((ms) => bucket.take(ms)), [true, true, true, false], 'refills up to its capacity only');
  t.false(bucket.take(5_000), 'a clock going back refills nothing');
});

test('identities: the CURVE key where known, else host, pid and name, each bounded', (t) => {
  t.is<string, string>(peerIdentity({ host: 'h', pid: 1, name: 'w', curveKey: 'K'.repeat(40) }), `curve:${'K'.repeat(40)}`);
  t.is<string, string>(peerIdentity({ host: 'node7', pid: 42, name: 'w1' }), 'hello:node7/42/w1');
  t.not(alice, bob);
  t.true(peerIdentity({ host: 'h'.repeat(10_000), pid: 1, name: 'n'.repeat(10_000) }).length < 200);
});

test('fault counts belong to the identity and outlast its hellos: past the limit it may not rejoin', (t) => {
  const g = gate();
  t.is(g.helloProblem(alice, 'conn-1', 0), undefined);
  t.deepEqual([1, 2, 3].map(() => g.recordFault(alice)), [1, 2, 3]);
  // A new connection and a new hello: the record is the same.
  t.is(g.helloProblem(alice, 'conn-2', 0), undefined, 'at the limit it may still rejoin');
  t.is(g.faults(alice), 3);
  t.is(g.recordFault(alice), 4);
  t.like(g.helloProblem(alice, 'conn-3', 10_000), { code: 'ERR_TOO_MANY_FAULTS', reason: '4 bad messages earlier in this run: this worker may not rejoin' });
  t.is(g.helloProblem(bob, 'conn-4', 10_000), undefined, 'another identity is not affected');
});

test('hellos are rate-limited per identity and per connection', (t) => {
  const g = gate();
  t.is(g.helloProblem(alice, 'a1', 0), undefined);
  t.is(g.helloProblem(alice, 'a2', 0), undefined);
  // Third hello of alice at once, even on a fresh connection.
  t.like(g.helloProblem(alice, 'a3', 0), { code: 'ERR_HELLO_RATE', reason: 'more than 2 hellos, then one per 2 s, from one worker' });
  t.is(g.helloProblem(alice, 'a4', 2_000), undefined, 'one more after the refill');
  // One connection claiming a new identity at every hello is held by the connection's bucket.
  const claims = Array.from({ length: 4 }, (_, i) => g.helloProblem(peerIdentity({ host: 'x', pid: i, name: 'y' }), 'shifty', 0)?.code);
  t.deepEqual(claims, [undefined, undefined, 'ERR_HELLO_RATE', 'ERR_HELLO_RATE']);
});

test('the gate remembers a bounded number of identities and connections', (t) => {
  const g = gate(10);
  g.recordFault(alice);
  for (let i = 0; i < 10; i++) g.recordFault(peerIdentity({ host: 'x', pid: i, name: 'y' }));
  t.is(g.faults(alice), 0, 'the oldest record was forgotten');
  t.is(g.faults(peerIdentity({ host: 'x', pid: 9, name: 'y' })), 1);
});
