import { createServer } from 'node:net';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that is free on 127.0.0.1 now, chosen at random in [20000, 50000) so parallel test files rarely
 * collide. With `withBusPort`, port + 10000 is free too (Redis Cluster's bus port).
 */
export async function freePort({ withBusPort = false } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (!(await portIsFree(port))) continue;
    if (withBusPort && !(await portIsFree(port + 10_000))) continue;
    return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}
