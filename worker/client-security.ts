import type { Dealer } from 'zeromq';

/** How a worker's socket proves itself to the coordinator. CURVE is issue #5's work. */
export type ClientSecurity = { readonly kind: 'plain' };

export async function applyClientSecurity(socket: Dealer, security: ClientSecurity): Promise<void> {
  void socket;
  void security;
}
