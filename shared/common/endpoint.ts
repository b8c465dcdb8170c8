/**
 * True for a tcp endpoint written with an IPv6 address (`tcp://[::1]:5555`): ZeroMQ binds and connects to those only
 * on a socket with its `ipv6` option on (otherwise the bind fails with "No such device").
 */
export function usesIpv6(endpoint: string): boolean {
  return /^tcp:\/\/\[[^\]]*\]/.test(endpoint);
}
