/**
 * Peer-supplied values echoed in logs and replies are cut to a bounded size, so one hostile frame cannot become a
 * 400 MB log line. Work is bounded too: only the part that is shown is read.
 */
export const MAX_ECHO_CHARS = 200;

/** `text` when short, else its head and how much was cut. */
export function boundedText(text: string, max: number = MAX_ECHO_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} chars)`;
}

/** A list as `[a,b,c,… (n entries)]`, reading only as many entries as fit in `max` characters. */
export function describeList(list: ArrayLike<unknown>, max: number = MAX_ECHO_CHARS): string {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const item = describeValue(list[i], max);
    if (out.length + item.length + 1 > max) return `[${out}… (${list.length} entries)]`;
    out += i === 0 ? item : `,${item}`;
  }
  return `[${out}]`;
}

/** Any value as bounded text: lists by their head and length, strings cut, others as String() cut. */
export function describeValue(value: unknown, max: number = MAX_ECHO_CHARS): string {
  if (Array.isArray(value) || ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return describeList(value as ArrayLike<unknown>, max);
  }
  if (typeof value === 'string') return boundedText(value, max);
  return boundedText(String(value), max);
}
