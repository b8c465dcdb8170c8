import type { Dealer } from 'zeromq';

/**
 * How a worker's socket proves itself to the coordinator: CURVE with its own key pair, trusting only the
 * coordinator's public key; or plain, for loopback and --insecure coordinators.
 */
export type ClientSecurity =
  | { readonly kind: 'plain' }
  | { readonly kind: 'curve'; readonly publicKey: string; readonly secretKey: string; readonly serverKey: string };

/** Handshakes that fail without an answer (wrong --coordinator-key, or no CURVE there) before the worker gives up. */
const HANDSHAKE_FAILURES_TO_GIVE_UP = 5;

export async function applyClientSecurity(socket: Dealer, security: ClientSecurity): Promise<void> {
  if (security.kind === 'plain') return;
  socket.curveServerKey = security.serverKey;
  socket.curvePublicKey = security.publicKey;
  socket.curveSecretKey = security.secretKey;
}

/**
 * Calls `refused` once with a reason when the coordinator turns this worker away in the handshake, where no
 * protocol message can say why: at once when the coordinator's ZAP handler refuses the key, and after a few
 * failures in a row when the handshake cannot complete at all (wrong coordinator key, mismatched security).
 */
export function watchHandshake(socket: Dealer, security: ClientSecurity, refused: (reason: string) => void): void {
  let failures = 0;
  let done = false;
  const give = (reason: string): void => {
    if (done) return;
    done = true;
    refused(reason);
  };
  socket.events.on('handshake', () => {
    failures = 0;
  });
  socket.events.on('handshake:error:auth', (event) => {
    give(`coordinator refused this worker's CURVE key (not in the allow-list; ZAP status ${event.error.status})`);
  });
  const failed = (detail: string): void => {
    failures += 1;
    if (failures < HANDSHAKE_FAILURES_TO_GIVE_UP) return;
    give(security.kind === 'curve'
      ? `CURVE handshake with the coordinator failed ${failures} times (${detail}): is --coordinator-key the coordinator's public key, and does it use CURVE?`
      : `handshake with the coordinator failed ${failures} times (${detail}): it probably requires CURVE (give --curve-secret-key-file and --coordinator-key)`);
  };
  // libzmq does not reconnect after a ZMTP protocol error (mismatched mechanisms), so waiting would be forever.
  socket.events.on('handshake:error:protocol', (event) => {
    failures = HANDSHAKE_FAILURES_TO_GIVE_UP - 1;
    failed(event.error.message);
  });
  socket.events.on('handshake:error:other', (event) => failed(event.error.message));
}
