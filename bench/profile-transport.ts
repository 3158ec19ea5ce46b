/**
 * The transport bench's cases (1 in flight, or `--in-flight n`), one at a time against a throwaway `redis-server`, for profiles and for
 * what each operation costs: ops/s, CPU µs per operation of this process, of the server child and of Redis, and
 * Redis' commands per operation with their own time (`INFO commandstats` deltas). Beside the library's cases, raw
 * ioredis floors doing the least each design needs (see CASES).
 *
 *   node [--cpu-prof --cpu-prof-dir=/tmp/tp] --import ./src/runtime/register.mjs bench/profile-transport.ts \
 *     <case[,case…]> [--ops 20000] [--in-flight 1] [--repeat 1] [--child-prof /tmp/tp-child] [--strace] [--perf /tmp/tp-perf]
 *
 * Several cases run one after the other, and with `--repeat n` n times, the order reversed every other time (A B,
 * B A), each on a server child started for it; then each case's medians are printed, with its ratio to the first case
 * taken round by round (cases of one round ran within seconds of each other, so a shared machine's load, which moves
 * every figure by tens of percent from minute to minute, cancels out of the ratio). `--child-prof` starts the child with `--cpu-prof` into that
 * directory. `--strace` counts the system calls of the child, this process and Redis over the measured operations
 * (`strace -c`: `epoll_wait` calls are event-loop turns, `write`/`writev`/`read` socket I/O); costs per operation
 * are then not representative (strace slows every call). `--perf` records on-CPU samples of the three (`perf
 * record -g`, the child with `--perf-basic-prof` for JS names; give this process that flag too, with
 * `--no-logfile-per-isolate --logfile=<dir>/bench.v8.log`) into `<dir>/<case>.{child,bench,redis}.data`: unlike
 * `--cpu-prof`, whose samples are wall-clock and so charge a system call with the time the process waited preempted
 * inside it, these count CPU time only. Read them with `perf report -i <file> --no-children`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ClientRedis, type ClientProxy } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { RedisTransportClient } from '@app/redis/transport';
import { RedisServerProcess } from '../test/harness/redis-server-process.js';
import { CostMeter } from './harness/cost-meter.js';
import { runOperations } from './harness/run-workload.js';
import { AckWaiter, startReadyChild } from './suites/transport.js';

const frameworkServer = fileURLToPath(new URL('./suites/transport.server-process.ts', import.meta.url));
const self = fileURLToPath(import.meta.url);
const WARM_UP_OPS = 3_000;

/** What one case drives: its server child, and one operation. */
interface CaseSetup {
  /** `transport.server-process.ts` with this server (`builtin`, `ours`, `streams`), or this file's raw server. */
  child: { framework: string } | { raw: RawServer };
  open(url: string, prefix: string, acks: AckWaiter): Promise<{ run(i: number): Promise<unknown>; close(): void }>;
}

type RawServer = 'raw-pubsub' | 'raw-streams' | 'raw-streams-batched' | 'raw-streams-readahead' | 'raw-reply';

type Client = Pick<ClientProxy, 'emit' | 'send' | 'connect' | 'close'>;

function viaClient(kind: 'emit' | 'send', ns: string, make: (url: string, prefix: string) => Client) {
  return async (url: string, prefix: string, acks: AckWaiter) => {
    const client = make(url, prefix);
    await client.connect();
    const run =
      kind === 'emit'
        ? async () => {
            const { seq, acked } = acks.next();
            await Promise.all([firstValueFrom(client.emit(`${ns}.evt`, { seq }), { defaultValue: undefined }), acked]);
          }
        : (i: number) => firstValueFrom(client.send<number>(`${ns}.sum`, [i, 1]));
    return { run, close: () => void client.close() };
  };
}

const nest = (url: string) => {
  const { hostname, port } = new URL(url);
  return new ClientRedis({ host: hostname, port: Number(port || 6379) });
};
const oursPubSub = (url: string, prefix: string) => new RedisTransportClient({ url, channelPrefix: prefix });
const oursStreams = (url: string, prefix: string) =>
  new RedisTransportClient({ url, keyPrefix: prefix, mode: 'streams' });

/**
 * Raw emit: PUBLISH (floor of Nest's and our pub/sub emit) or XADD (floor of the streams emit), then the ack.
 * @param stream the stream to append to (`raw.stream`, or our streams server's key of `streams.evt`)
 */
function rawEmit(command: 'publish' | 'xadd', pattern = 'raw.evt', stream = 'raw.stream') {
  return async (url: string, prefix: string, acks: AckWaiter) => {
    const pub = new Redis(url);
    const run = async () => {
      const { seq, acked } = acks.next();
      const wire = JSON.stringify({ pattern, data: { seq } });
      const written =
        command === 'publish'
          ? pub.publish(`${prefix}${pattern}`, wire)
          : pub.xadd(`${prefix}${stream}`, 'MAXLEN', '~', '100000', '*', 'p', wire);
      await Promise.all([written, acked]);
    };
    return { run, close: () => pub.disconnect() };
  };
}

/**
 * Raw request: PUBLISH a request naming this client's reply channel, resolve on the reply's id.
 * @param pattern `raw.sum` (the raw server) or `ours.sum` (our pub/sub server, which answers on such a channel)
 */
const rawSend = (pattern: string) => async (url: string, prefix: string) => {
  const pub = new Redis(url);
  const sub = new Redis(url);
  const replyTo = `${prefix}_reply:${randomBytes(4).toString('hex')}`;
  const waiting = new Map<string, (value: unknown) => void>();
  sub.on('message', (_channel: string, raw: string) => {
    const packet = JSON.parse(raw) as { id: string; response: unknown };
    waiting.get(packet.id)?.(packet.response);
    waiting.delete(packet.id);
  });
  await sub.subscribe(replyTo);
  let next = 0;
  const run = (i: number) =>
    new Promise((resolve, reject) => {
      const id = (next++).toString(36);
      waiting.set(id, resolve);
      pub.publish(`${prefix}${pattern}`, JSON.stringify({ pattern, data: [i, 1], id, $r: replyTo })).catch(reject);
    });
  return {
    run,
    close: () => {
      pub.disconnect();
      sub.disconnect();
    },
  };
};

/**
 * `nest-*`, `ours-*`: the bench's contenders. Floors, with a raw ioredis server child doing the least each design
 * needs: `raw-publish-emit` PUBLISH → message → ack; `raw-streams-emit` XADD → XREADGROUP BLOCK → ack, XACK at once
 * on a command connection, XREADGROUP again; `raw-streams-batched-emit` the same with the XACKs of 2 ms sent as one
 * (as ours); `raw-streams-readahead-emit` that, with 3 reads written at a time (see serveRaw); `raw-send` PUBLISH
 * request → PUBLISH reply. `raw-client-ours-*`: the raw client against our server, to split what our client costs
 * from what our server does.
 */
const CASES: Record<string, CaseSetup> = {
  'nest-emit': { child: { framework: 'builtin' }, open: viaClient('emit', 'builtin', nest) },
  'ours-pubsub-emit': { child: { framework: 'ours' }, open: viaClient('emit', 'ours', oursPubSub) },
  'ours-streams-emit': { child: { framework: 'streams' }, open: viaClient('emit', 'streams', oursStreams) },
  'raw-publish-emit': { child: { raw: 'raw-pubsub' }, open: rawEmit('publish') },
  'raw-streams-emit': { child: { raw: 'raw-streams' }, open: rawEmit('xadd') },
  'raw-streams-batched-emit': { child: { raw: 'raw-streams-batched' }, open: rawEmit('xadd') },
  'raw-streams-readahead-emit': { child: { raw: 'raw-streams-readahead' }, open: rawEmit('xadd') },
  'raw-client-ours-streams-emit': {
    child: { framework: 'streams' },
    open: rawEmit('xadd', 'streams.evt', 'stream:{streams.evt}'),
  },
  'nest-send': { child: { framework: 'builtin' }, open: viaClient('send', 'builtin', nest) },
  'ours-send': { child: { framework: 'ours' }, open: viaClient('send', 'ours', oursPubSub) },
  'raw-send': { child: { raw: 'raw-reply' }, open: rawSend('raw.sum') },
  'raw-client-ours-send': { child: { framework: 'ours' }, open: rawSend('ours.sum') },
};

// ---------------------------------------------------------------------------------------------------------------
// The raw server child: `profile-transport.ts --serve <raw server> <redisUrl> <prefix>`.

async function serveRaw(kind: RawServer, url: string, prefix: string): Promise<void> {
  const ack = new Redis(url, { enableAutoPipelining: true });
  const pub = new Redis(url);
  const acknowledge = (raw: string) => {
    void ack.publish(`${prefix}ack`, String((JSON.parse(raw) as { data: { seq: number } }).data.seq));
  };
  if (kind === 'raw-pubsub' || kind === 'raw-reply') {
    const sub = new Redis(url);
    sub.on('message', (_channel: string, raw: string) => {
      if (kind === 'raw-pubsub') return acknowledge(raw);
      const { id, data, $r } = JSON.parse(raw) as { id: string; data: [number, number]; $r: string };
      void pub.publish($r, JSON.stringify({ id, response: data[0] + data[1], isDisposed: true }));
    });
    await sub.subscribe(`${prefix}${kind === 'raw-pubsub' ? 'raw.evt' : 'raw.sum'}`);
  } else {
    const key = `${prefix}raw.stream`;
    const reader = new Redis(url);
    await pub.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
    const read = ['GROUP', 'g', 'c', 'COUNT', 16, 'BLOCK', 1000, 'STREAMS', key, '>'] as const;
    type Entries = [string, string[]][];
    const entriesOf = (reply: unknown) => ((reply as [string, Entries][] | null)?.[0]?.[1] ?? []) as Entries;
    // `raw-streams`: each entry's XACK sent at once. The others gather the XACKs of 2 ms into one, as ours does.
    let handled: string[] = [];
    let ackTimer: NodeJS.Timeout | undefined;
    const settle = (id: string) => {
      if (kind === 'raw-streams') return void pub.xack(key, 'g', id);
      handled.push(id);
      ackTimer ??= setTimeout(() => {
        ackTimer = undefined;
        void pub.xack(key, 'g', ...handled);
        handled = [];
      }, 2);
    };
    // `raw-streams-readahead`: up to 4 reads queued on the reader (Redis runs the next one as soon as the one before
    // returned), written 3 at a time when 1 is left: one write per 3 entries at 1 in flight instead of one each.
    const queued: Promise<unknown>[] = [];
    const socket = (reader as unknown as { stream: Socket }).stream;
    void (async () => {
      for (;;) {
        if (kind !== 'raw-streams-readahead') queued.push(reader.xreadgroup(...read));
        else if (queued.length <= 1) {
          socket.cork();
          for (let i = 0; i < 3; i++) queued.push(reader.xreadgroup(...read));
          socket.uncork();
        }
        for (const [id, fields] of entriesOf(await queued.shift())) {
          acknowledge(fields[1]);
          settle(id);
        }
      }
    })();
  }
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write('ready\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The driver.

function startChild(setup: CaseSetup, url: string, prefix: string, options: Options): Promise<ChildProcess> {
  const flags = [
    ...(options.childProf ? ['--cpu-prof', `--cpu-prof-dir=${options.childProf}`] : []),
    // `--perf-basic-prof` also has V8 write a log: into the perf directory rather than the working directory.
    ...(options.perf
      ? [
          '--perf-basic-prof',
          '--no-logfile-per-isolate',
          `--logfile=${options.perf}/child-${prefix.slice(8, 14)}.v8.log`,
        ]
      : []),
  ];
  const args =
    'framework' in setup.child
      ? [frameworkServer, url, prefix, setup.child.framework]
      : [self, '--serve', setup.child.raw, url, prefix];
  return startReadyChild(args, flags);
}

/** User and system CPU time of a process in µs (`/proc/<pid>/stat`, clock ticks: read over thousands of operations). */
function userSystemUs(pid: number): { user: number; system: number } {
  // Fields after the `(comm)`: state is the 3rd field of the stat line, utime the 14th, stime the 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 1e6 / 100;
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

/** `INFO commandstats` as calls and µs per command name. */
async function commandStats(admin: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = (await admin.info('commandstats')) as string;
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const [, name, calls, usec] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)) {
    if (name !== 'info') stats.set(name, { calls: Number(calls), usec: Number(usec) });
  }
  return stats;
}

/** `strace -c` attached to `pid` (all its threads) until stopped: its summary (stderr) once it detached. */
function straceOf(pid: number): { stop(): Promise<string> } {
  return attach('strace', ['-c', '-f', '-p', String(pid)]);
}

/** `perf record` of `pid`'s on-CPU time with call graphs into `file`, until stopped. */
function perfOf(pid: number, file: string): { stop(): Promise<string> } {
  return attach('perf', ['record', '-F', '2999', '-g', '-o', file, '-p', String(pid)]);
}

/** A tracer attached to a process until `stop()` interrupts it; resolves with what it wrote on stderr. */
function attach(command: string, args: string[]): { stop(): Promise<string> } {
  const tracer = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  tracer.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        tracer.once('exit', () => resolve(out));
        tracer.kill('SIGINT');
      }),
  };
}

function syscallCounts(summary: string, ops: number): string {
  const wanted = ['epoll_wait', 'epoll_pwait', 'write', 'writev', 'read', 'futex', 'sendmsg', 'recvmsg'];
  const parts: string[] = [];
  for (const line of summary.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const name = cols[cols.length - 1];
    if (!wanted.includes(name)) continue;
    // `% time  seconds  usecs/call  calls  [errors]  syscall`
    const calls = Number(cols[3]);
    parts.push(`${name} ${(calls / ops).toFixed(2)}`);
  }
  return parts.join(', ');
}

interface Options {
  ops: number;
  /** Operations in flight at once (a closed loop); 1 by default, as in the suite's 1-in-flight groups. */
  inFlight: number;
  repeat: number;
  childProf?: string;
  strace: boolean;
  perf?: string;
}

/** What one run of a case measured. */
interface Measured {
  opsPerSec: number;
  cpuUsPerOp: number;
}

async function measure(server: RedisServerProcess, name: string, admin: Redis, options: Options): Promise<Measured> {
  const url = server.url;
  const setup = CASES[name];
  const prefix = `profile:${randomBytes(3).toString('hex')}:`;
  const subscriber = new Redis(url);
  await subscriber.subscribe(`${prefix}ack`);
  const acks = new AckWaiter(subscriber);
  const child = await startChild(setup, url, prefix, options);
  const subject = await setup.open(url, prefix, acks);
  const meter = new CostMeter([url], [child.pid!]);
  try {
    await runOperations(WARM_UP_OPS, options.inFlight, (i) => subject.run(i));
    const parties = [child.pid!, process.pid, server.pid!];
    const traces = options.strace ? parties.map(straceOf) : [];
    const perfs = options.perf
      ? parties.map((pid, i) => perfOf(pid, `${options.perf}/${name}.${['child', 'bench', 'redis'][i]}.data`))
      : [];
    if (traces.length + perfs.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    const statsBefore = await commandStats(admin);
    const splitBefore = parties.map(userSystemUs);
    const before = await meter.snapshot();
    const start = performance.now();
    await runOperations(options.ops, options.inFlight, (i) => subject.run(i));
    const seconds = (performance.now() - start) / 1_000;
    const cost = CostMeter.perOperation(before, await meter.snapshot(), options.ops);
    const split = parties.map(userSystemUs).map(({ user, system }, i) => {
      const was = splitBefore[i];
      return `${((user - was.user) / options.ops).toFixed(0)}/${((system - was.system) / options.ops).toFixed(0)}`;
    });
    const statsAfter = await commandStats(admin);
    const summaries = await Promise.all(traces.map((t) => t.stop()));
    await Promise.all(perfs.map((p) => p.stop()));
    const commands = [...statsAfter]
      .map(([command, { calls, usec }]) => {
        const was = statsBefore.get(command) ?? { calls: 0, usec: 0 };
        return { command, calls: (calls - was.calls) / options.ops, usec: (usec - was.usec) / options.ops };
      })
      .filter((c) => c.calls > 0.001);
    const f = (n: number) => n.toFixed(1);
    console.log(
      `${name.padEnd(27)} ${String(Math.round(options.ops / seconds)).padStart(6)} ops/s  CPU µs/op ${f(cost.totalUs)} ` +
        `(bench ${f(cost.benchUs)} / child ${f(cost.childrenUs)} / redis ${f(cost.redisUs)})  ` +
        `cmds/op ${cost.redisCommands.toFixed(2)} [${commands.map((c) => `${c.command} ${c.calls.toFixed(2)}×${f(c.usec / c.calls)}µs`).join(', ')}]  ` +
        `cmd µs/op ${f(commands.reduce((s, c) => s + c.usec, 0))}  bench writes/op ${cost.socketWrites.toFixed(2)}  ` +
        `user/sys µs/op child ${split[0]} bench ${split[1]} redis ${split[2]}`,
    );
    if (summaries.length > 0) {
      for (const [i, party] of ['child', 'bench', 'redis'].entries()) {
        console.log(`  syscalls/op  ${party}: ${syscallCounts(summaries[i], options.ops)}`);
      }
    }
    return { opsPerSec: options.ops / seconds, cpuUsPerOp: cost.totalUs };
  } finally {
    meter.close();
    subject.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    subscriber.disconnect();
  }
}

function parseArgs(argv: string[]): { cases: string[]; options: Options } {
  const [list = '', ...rest] = argv;
  const options: Options = { ops: 20_000, inFlight: 1, repeat: 1, strace: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--ops') options.ops = Number(rest[++i]);
    else if (arg === '--repeat') options.repeat = Number(rest[++i]);
    else if (arg === '--in-flight') options.inFlight = Number(rest[++i]);
    else if (arg === '--child-prof') options.childProf = rest[++i];
    else if (arg === '--strace') options.strace = true;
    else if (arg === '--perf') options.perf = rest[++i];
    else throw new Error(`unknown argument ${arg}`);
  }
  const cases = list.split(',').filter(Boolean);
  const unknown = cases.filter((c) => !Object.hasOwn(CASES, c));
  if (
    cases.length === 0 ||
    unknown.length > 0 ||
    !(options.ops > 0) ||
    !(options.repeat > 0) ||
    !(options.inFlight >= 1)
  ) {
    throw new Error(
      `cases: ${Object.keys(CASES).join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
  return { cases, options };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--serve') return serveRaw(argv[1] as RawServer, argv[2], argv[3]);
  const { cases, options } = parseArgs(argv);
  const server = await RedisServerProcess.start();
  const admin = new Redis(server.url);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `${new Date().toISOString()} · load ${load} · ${options.ops} ops per case, ${options.inFlight} in flight`,
  );
  const rounds: Array<Map<string, Measured>> = [];
  try {
    for (let r = 0; r < options.repeat; r++) {
      const round = new Map<string, Measured>();
      for (const name of r % 2 === 0 ? cases : [...cases].reverse()) {
        round.set(name, await measure(server, name, admin, options));
      }
      rounds.push(round);
    }
  } finally {
    admin.disconnect();
    await server.stop();
  }
  if (rounds.length > 1) printMedians(cases, rounds);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Medians over the rounds, and each case's ratio to the first case, round by round (× > 1: better than it). */
function printMedians(cases: string[], rounds: Array<Map<string, Measured>>): void {
  const [first] = cases;
  console.log(
    `medians of ${rounds.length} rounds; × ${first}: ${first}'s CPU/op ÷ the case's, the case's ops/s ÷ ${first}'s ` +
      '(above 1: the case does better), each taken round by round',
  );
  for (const name of cases) {
    const of = (pick: (m: Measured) => number) => median(rounds.map((round) => pick(round.get(name)!)));
    const cpuRatio = median(rounds.map((round) => round.get(first)!.cpuUsPerOp / round.get(name)!.cpuUsPerOp));
    const opsRatio = median(rounds.map((round) => round.get(name)!.opsPerSec / round.get(first)!.opsPerSec));
    console.log(
      `  ${name.padEnd(27)} ${String(Math.round(of((m) => m.opsPerSec))).padStart(6)} ops/s  ` +
        `${of((m) => m.cpuUsPerOp)
          .toFixed(1)
          .padStart(6)} CPU µs/op  ` +
        `× ${first}: ${cpuRatio.toFixed(2)} by CPU/op, ${opsRatio.toFixed(2)} by ops/s`,
    );
  }
}

await main(process.argv.slice(2));
