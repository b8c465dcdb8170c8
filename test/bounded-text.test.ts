import test from 'ava';
import { boundedText, describeList, describeValue, MAX_ECHO_CHARS } from '../shared/common/bounded-text.js';
import { decodeTensor } from '../shared/protocol/tensor-codec.js';

test('echoed text is cut to a bounded length and says how long it was', (t) => {
  t.is(boundedText('short'), 'short');
  const cut = boundedText('x'.repeat(10_000));
  t.true(cut.length < MAX_ECHO_CHARS + 30, `${cut.length} chars`);
  t.true(cut.endsWith('… (10000 chars)'));
  t.is(boundedText('abcdef', 3), 'abc… (6 chars)');
});

test('lists are described by their head and their length, reading only that head', (t) => {
  t.is(describeList([3, 3, 1, 16]), '[3,3,1,16]');
  t.is(describeList([]), '[]');
  const huge = new Uint32Array(100_000_000).fill(7);
  const started = performance.now();
  const text = describeList(huge);
  t.true(performance.now() - started < 50, 'reads only the head');
  t.true(text.length <= MAX_ECHO_CHARS + 40, text);
  t.regex(text, /^\[7,7,7,.*… \(100000000 entries\)\]$/);
  t.is(describeValue(['a'.repeat(500)], 20), '[… (1 entries)]');
  t.is(describeValue(12), '12');
});

test('a tensor with an absurd shape is refused with a bounded reason', (t) => {
  const shape = new Array<number>(1_000_000).fill(2);
  const error = t.throws(() => decodeTensor({ name: 'n'.repeat(100_000), shape, data: new Uint8Array(4) }));
  t.true(error.message.length < 2 * MAX_ECHO_CHARS, `${error.message.length} chars: ${error.message}`);
  t.regex(error.message, /1000000 entries/);
});
