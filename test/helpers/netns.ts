import { ip, netnsUnavailable } from '../../scripts/bench/scale/netns.js';

export { netnsUnavailable };

/**
 * Hosts built on this machine from Linux network namespaces: one "hub" namespace (the coordinator's host) joined
 * to each other namespace by its own veth pair, on 10.231.<i>.0/24. The links exist only between these
 * namespaces, so no traffic leaves them. Needs root (CAP_NET_ADMIN) and iproute2.
 */
export interface NetnsHosts {
  readonly hub: string;
  /** Namespace and the hub's address as seen from it, per spoke. */
  readonly spokes: readonly { readonly ns: string; readonly address: string; readonly hubAddress: string }[];
  remove(): void;
}

/** Makes the hub and `spokes` namespaces and links them. @throws Error with ip's message on any failure. */
export function createHosts(tag: string, spokes: number): NetnsHosts {
  const hub = `ddp-${tag}-hub`;
  const made: string[] = [];
  const must = (args: readonly string[]): void => {
    const r = ip(args);
    if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  const remove = (): void => {
    for (const ns of made) ip(['netns', 'delete', ns]);
  };
  try {
    must(['netns', 'add', hub]);
    made.push(hub);
    must(['-n', hub, 'link', 'set', 'lo', 'up']);
    const list = Array.from({ length: spokes }, (_, k) => {
      const i = k + 1;
      const ns = `ddp-${tag}-h${i}`;
      must(['netns', 'add', ns]);
      made.push(ns);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
      // Made inside the hub, then one end moved: nothing is ever created in the caller's own namespace.
      must(['-n', hub, 'link', 'add', `hub${i}`, 'type', 'veth', 'peer', 'name', `eth${i}`]);
      must(['-n', hub, 'link', 'set', `eth${i}`, 'netns', ns]);
      must(['-n', hub, 'addr', 'add', `10.231.${i}.1/24`, 'dev', `hub${i}`]);
      must(['-n', ns, 'addr', 'add', `10.231.${i}.2/24`, 'dev', `eth${i}`]);
      must(['-n', hub, 'link', 'set', `hub${i}`, 'up']);
      must(['-n', ns, 'link', 'set', `eth${i}`, 'up']);
      return { ns, address: `10.231.${i}.2`, hubAddress: `10.231.${i}.1` };
    });
    return { hub, spokes: list, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
