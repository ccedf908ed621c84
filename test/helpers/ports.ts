import { createServer, type Server } from 'node:net';

/**
 * Ports for the servers the tests start (certified serve, nginx, Caddy), which bind them later
 * themselves, so a port cannot be held from the check to the use. Two rules keep that gap safe:
 *
 * - The ports come from 20000-32767, below the range the kernel hands out for `listen(0)` and for
 *   the local end of outgoing connections (Linux 32768-60999, macOS 49152-65535): no other
 *   program's ephemeral port lands on them.
 * - Each test process takes a slice of SLICE ports and hands out only those. The slice is its own
 *   while the process holds a socket on the slice's first port, so two processes can never share
 *   a slice, and the kernel frees it when the process ends, however it ends. The first slice tried
 *   depends on the pid, so parallel processes usually get theirs at the first try.
 */
const FIRST_PORT = 20_000;
const SLICE = 64;
const SLICES = Math.floor((32_768 - FIRST_PORT) / SLICE);

const guards: Server[] = [];
let next = 0;
let end = 0;

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

async function claimSlice(): Promise<void> {
  const start = process.pid + guards.length;
  for (let tried = 0; tried < SLICES; tried++) {
    const base = FIRST_PORT + ((start + tried) % SLICES) * SLICE;
    const guard = await listenOn(base);
    if (!guard) continue;
    guard.unref();
    guards.push(guard);
    next = base + 1;
    end = base + SLICE;
    return;
  }
  throw new Error(`no free slice of ${SLICE} ports between ${FIRST_PORT} and 32767`);
}

/** A port of this process's slice, free on 127.0.0.1 now, never handed out twice by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    while (next < end) {
      const port = next++;
      const probe = await listenOn(port);
      if (!probe) continue;
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }
    await claimSlice();
  }
}
