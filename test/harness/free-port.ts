import { createServer } from 'node:net';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Ports this process handed out already. A port is only checked, not held, until its user listens on it: a caller
 * that takes several ports before starting anything (the demo soak takes twelve) would otherwise get the same one
 * twice now and then (EADDRINUSE in the second app).
 */
const handedOut = new Set<number>();

/**
 * A TCP port that is free on 127.0.0.1 now and not handed out before by this process, chosen at random in
 * [20000, 50000) so parallel test files rarely collide. With `withBusPort`, port + 10000 is free too (Redis Cluster's
 * bus port).
 */
export async function freePort({ withBusPort = false } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (handedOut.has(port) || (withBusPort && handedOut.has(port + 10_000))) continue;
    if (!(await portIsFree(port))) continue;
    if (withBusPort && !(await portIsFree(port + 10_000))) continue;
    handedOut.add(port);
    if (withBusPort) handedOut.add(port + 10_000);
    return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}
