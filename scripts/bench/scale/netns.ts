import { spawn, spawnSync } from 'node:child_process';

/** Runs `ip` (iproute2) synchronously; `tc` likewise with `tc: true`. */
export function ip(args: readonly string[], tool: 'ip' | 'tc' = 'ip'): { ok: boolean; stderr: string; stdout: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: (r.error?.message ?? r.stderr ?? '').trim(), stdout: r.stdout ?? '' };
}

/**
 * Why namespaces (and, with `shaped`, tc tbf on their links) cannot be used here, or undefined when they can; checked
 * by making and removing one.
 */
export function netnsUnavailable(shaped = false): string | undefined {
  const probe = `ddp-probe-${process.pid}`;
  const added = ip(['netns', 'add', probe]);
  if (!added.ok) return `'ip netns add' is not permitted or iproute2 is missing (${added.stderr || 'no detail'})`;
  const veth = ip(['-n', probe, 'link', 'add', 'name', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
  const tbf = veth.ok && shaped ? ip(['-n', probe, 'qdisc', 'add', 'dev', 'p0', 'root', 'tbf', 'rate', '1gbit', 'burst', '256kb', 'latency', '50ms'], 'tc') : veth;
  ip(['netns', 'delete', probe]);
  if (!veth.ok) return `veth pairs cannot be made (${veth.stderr})`;
  return tbf.ok ? undefined : `the tbf qdisc cannot be set (${tbf.stderr})`;
}

/** `ip` in the background (e.g. reading counters while a run goes on), parsed as JSON. */
export function ipJson(args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['-j', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`ip ${args.join(' ')}: ${err.trim()}`));
      else resolve(JSON.parse(out) as unknown);
    });
  });
}
