import { ip, ipJson } from './netns.js';

/**
 * A cluster on this machine: one network namespace per host (the coordinator's and each worker's), every host linked
 * by its own veth pair to a bridge in a switch namespace of its own, as machines on one non-blocking switch. Every
 * link is shaped in both directions with tc tbf (egress of each veth end), so a host's NIC, the coordinator's
 * included, carries at most the link rate each way. Traffic stays inside these namespaces. Needs root and iproute2.
 */
export interface SwitchedCluster {
  /** The coordinator's namespace and address. */
  readonly coordinator: { readonly ns: string; readonly address: string };
  readonly workers: readonly { readonly ns: string; readonly address: string }[];
  /** Sets every link to `bitsPerSecond` each way. */
  shape(bitsPerSecond: number): void;
  /** Bytes each link has carried so far, per direction, keyed by host namespace. */
  counters(): Promise<ReadonlyMap<string, LinkBytes>>;
  remove(): void;
}

export interface LinkBytes {
  /** Bytes from the host into the switch, and from the switch to the host. */
  readonly up: number;
  readonly down: number;
}

const PREFIX = 'ddpscale';

function must(args: readonly string[], tool: 'ip' | 'tc' = 'ip'): void {
  const r = ip(args, tool);
  if (!r.ok) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
}

/** Removes namespaces a killed earlier run left behind. */
function removeLeftovers(): void {
  for (const line of ip(['netns', 'list']).stdout.split('\n')) {
    const ns = line.split(' ')[0];
    if (ns?.startsWith(`${PREFIX}-`)) ip(['netns', 'delete', ns]);
  }
}

/** Makes the switch, the coordinator's host and `workers` worker hosts. @throws Error with ip's message. */
export function createSwitchedCluster(workers: number): SwitchedCluster {
  if (workers > 250) throw new RangeError(`at most 250 workers on one /24, not ${workers}`);
  removeLeftovers();
  const sw = `${PREFIX}-sw`;
  const made: string[] = [];
  const remove = (): void => {
    for (const ns of made.reverse()) ip(['netns', 'delete', ns]);
  };
  // Port name in the switch, by host.
  const ports = new Map<string, string>();
  const host = (ns: string, address: string, index: number): { ns: string; address: string } => {
    must(['netns', 'add', ns]);
    made.push(ns);
    must(['-n', ns, 'link', 'set', 'lo', 'up']);
    const port = `p${index}`;
    must(['-n', sw, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0']);
    must(['-n', sw, 'link', 'set', 'eth0', 'netns', ns]);
    must(['-n', sw, 'link', 'set', port, 'master', 'br0']);
    must(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    must(['-n', sw, 'link', 'set', port, 'up']);
    must(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ports.set(ns, port);
    return { ns, address };
  };
  try {
    must(['netns', 'add', sw]);
    made.push(sw);
    must(['-n', sw, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    must(['-n', sw, 'link', 'set', 'br0', 'up']);
    const coordinator = host(`${PREFIX}-c`, '10.232.0.1', 0);
    const list = Array.from({ length: workers }, (_, k) => host(`${PREFIX}-w${k + 1}`, `10.232.0.${k + 2}`, k + 1));
    return {
      coordinator,
      workers: list,
      shape(bitsPerSecond) {
        // tbf needs a bucket of at least one (GSO) packet and of what arrives in a timer tick; 1 ms of the rate, at least 256 KiB.
        const burst = Math.max(256 * 1024, Math.ceil(bitsPerSecond / 8 / 1000));
        const tbf = ['root', 'tbf', 'rate', `${Math.round(bitsPerSecond)}bit`, 'burst', String(burst), 'latency', '100ms'];
        for (const [ns, port] of ports) {
          must(['-n', sw, 'qdisc', 'replace', 'dev', port, ...tbf], 'tc');
          must(['-n', ns, 'qdisc', 'replace', 'dev', 'eth0', ...tbf], 'tc');
        }
      },
      async counters() {
        const links = await ipJson(['-n', sw, '-s', 'link', 'show']) as { ifname: string; stats64?: { rx: { bytes: number }; tx: { bytes: number } } }[];
        const byPort = new Map(links.map((l) => [l.ifname, l.stats64]));
        // The switch port receives what the host sends (up) and transmits what the host receives (down).
        return new Map([...ports].map(([ns, port]) => [ns, { up: byPort.get(port)?.rx.bytes ?? 0, down: byPort.get(port)?.tx.bytes ?? 0 }]));
      },
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
