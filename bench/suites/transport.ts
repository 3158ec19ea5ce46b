import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClientRedis, type ClientProxy } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { RedisTransportClient } from '@app/redis/transport';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const serverProcess = fileURLToPath(new URL('./transport.server-process.ts', import.meta.url));
const IN_FLIGHT = [1, 50];
/** An event whose acknowledgement never comes fails the case instead of hanging the run. */
const ACK_TIMEOUT_MS = 10_000;

interface Contender {
  name: string;
  client: Pick<ClientProxy, 'emit' | 'send'>;
  ns: string;
  anchor: boolean;
}

/** The issue-16 targets: our ratio to Nest's Transport.REDIS, by case and in-flight count. */
function targetOf(kind: 'emit' | 'send', name: string, concurrency: number): number | undefined {
  if (kind === 'send') return name === 'ours pub/sub' ? 2.5 : undefined;
  if (name === 'ours streams (durable)') return 1.5;
  return name === 'ours pub/sub' && concurrency === 50 ? 2 : undefined;
}

/** Resolves the emit → handler round trip: the handler publishes each event's sequence number on `<prefix>ack`. */
export class AckWaiter {
  private readonly waiting = new Map<number, () => void>();
  private seq = 0;

  constructor(private readonly subscriber: Redis) {
    subscriber.on('message', (_channel: string, message: string) => {
      const seq = Number(message);
      this.waiting.get(seq)?.();
      this.waiting.delete(seq);
    });
  }

  next(): { seq: number; acked: Promise<void> } {
    const seq = this.seq++;
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new Error(`event ${seq} was not handled within ${ACK_TIMEOUT_MS} ms`));
      }, ACK_TIMEOUT_MS);
      this.waiting.set(seq, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { seq, acked };
  }
}

/**
 * Starts a TypeScript script of this repository as a server child (`nodeFlags` before the loader, e.g. profiling)
 * and resolves once it printed "ready"; rejects with its stderr if it exits first.
 */
export function startReadyChild(args: string[], nodeFlags: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', './src/runtime/register.mjs', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`server child exited (${code}): ${stderr}`)));
  });
}

function startServer(redisUrl: string, prefix: string): Promise<ChildProcess> {
  return startReadyChild([serverProcess, redisUrl, prefix]);
}

function transportCases(events: Contender[], requests: Contender[], acks: AckWaiter): BenchCase[] {
  const emitCases = IN_FLIGHT.flatMap((concurrency) =>
    events.map(({ name, client, ns, anchor }) => ({
      name,
      group: `emit→handler · ${concurrency} in flight`,
      anchor,
      ours: !anchor,
      target: targetOf('emit', name, concurrency),
      concurrency,
      run: async () => {
        const { seq, acked } = acks.next();
        // Observe the emit's own outcome too, so a failed publish fails the case.
        await Promise.all([firstValueFrom(client.emit(`${ns}.evt`, { seq }), { defaultValue: undefined }), acked]);
      },
    })),
  );
  const sendCases = IN_FLIGHT.flatMap((concurrency) =>
    requests.map(({ name, client, ns, anchor }) => ({
      name,
      group: `send→reply · ${concurrency} in flight`,
      anchor,
      ours: !anchor,
      target: targetOf('send', name, concurrency),
      concurrency,
      run: (i: number) => firstValueFrom(client.send<number>(`${ns}.sum`, [i, 1])),
    })),
  );
  return [...emitCases, ...sendCases];
}

/**
 * Nest's built-in `Transport.REDIS` (anchor) vs our transport in pub/sub and streams mode, client here and servers
 * in a child process: emit → handler (until the handler ran, acknowledged over pub/sub) and send → reply, 1 and 50
 * in flight.
 */
export const transportSuite: BenchSuite = {
  description:
    "Nest's ClientRedis/ServerRedis (anchor) vs RedisTransportClient/Server (pub/sub, streams), server in a child process",

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('transport');
    const { hostname, port } = new URL(redisUrl);
    const admin = new Redis(redisUrl);
    const subscriber = new Redis(redisUrl);
    const builtin = new ClientRedis({ host: hostname, port: Number(port || 6379) });
    const pubsub = new RedisTransportClient({ url: redisUrl, channelPrefix: prefix });
    const streams = new RedisTransportClient({ url: redisUrl, keyPrefix: prefix, mode: 'streams' });
    let server: ChildProcess | undefined;

    const teardown = async (): Promise<void> => {
      try {
        if (server && server.exitCode === null) {
          const exited = new Promise((resolve) => server!.once('exit', resolve));
          server.kill('SIGTERM');
          await exited;
        }
        log(`Deleted ${await deleteBenchKeys(admin, prefix)} keys under ${prefix}`);
      } finally {
        await Promise.allSettled([builtin.close(), pubsub.close(), streams.close()]);
        subscriber.disconnect();
        admin.disconnect();
      }
    };

    try {
      await subscriber.subscribe(`${prefix}ack`);
      const acks = new AckWaiter(subscriber);
      server = await startServer(redisUrl, prefix);
      log('Servers ready in a child process (built-in, ours pub/sub, ours streams)');
      await Promise.all([builtin.connect(), pubsub.connect(), streams.connect()]);
      const builtinContender = { name: 'Nest Transport.REDIS', client: builtin, ns: 'builtin', anchor: true };
      const cases = transportCases(
        [
          builtinContender,
          { name: 'ours pub/sub', client: pubsub, ns: 'ours', anchor: false },
          { name: 'ours streams (durable)', client: streams, ns: 'streams', anchor: false },
        ],
        [builtinContender, { name: 'ours pub/sub', client: pubsub, ns: 'ours', anchor: false }],
        acks,
      );
      return { cases, teardown, involved: { processes: [{ name: 'servers', pid: server.pid! }] } };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
