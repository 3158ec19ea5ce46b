/**
 * Summarises a `.cpuprofile` written by `bench/profile-http.ts --prof-dir`: the busy (non-idle) time split by
 * where the code lives (Node's HTTP and sockets, GC, Express, Nest, the library, the app…), the functions with the
 * most self time, and the inclusive time of the calls the HTTP analysis asks about (writes, ETag, JSON, pipes).
 * Only samples inside the measured window count (`window.json` in the profile's directory, written by
 * `bench/profile-http.ts`), and figures are also given per request.
 *
 * With `--against <dir>` (another run's profile, e.g. the bare endpoint's), every figure is shown for both and
 * functions are sorted by the difference per request: the per-request work one server does and the other does not.
 *
 *   node --import ./src/runtime/register.mjs bench/profile-http-summary.ts <dir | file.cpuprofile> \
 *     [--against <dir | file.cpuprofile>] [--top 25]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** First match wins: where a function's self time is booked. */
const CATEGORIES: Array<[string, (frame: CallFrame) => boolean]> = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['program (native, unattributed)', (f) => f.functionName === '(program)'],
  ['library (libs/redis)', (f) => f.url.includes('/libs/redis/')],
  ['booking apps (apps/)', (f) => f.url.includes('/apps/')],
  ['ioredis', (f) => /node_modules\/(ioredis|@ioredis|redis-parser|denque|cluster-key-slot)\//.test(f.url)],
  ['class-validator / class-transformer', (f) => /node_modules\/class-(validator|transformer)\//.test(f.url)],
  ['@nestjs/throttler', (f) => f.url.includes('/@nestjs/throttler/')],
  ['Nest (platform-express)', (f) => f.url.includes('/@nestjs/platform-express/')],
  ['Nest (core, common)', (f) => f.url.includes('/@nestjs/')],
  ['rxjs', (f) => f.url.includes('/node_modules/rxjs/')],
  [
    'Express + router + body parsers',
    (f) =>
      /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|etag|fresh|on-finished|type-is|content-type|qs|accepts|negotiator|mime-types|mime-db|parseurl|path-to-regexp|encodeurl|escape-html|statuses|http-errors|vary|cookie|proxy-addr|forwarded|ipaddr\.js|iconv-lite|media-typer|range-parser|debug|ms|depd|safe-buffer|setprototypeof|inherits|merge-descriptors|utils-merge|methods|is-promise)\//.test(
        f.url,
      ),
  ],
  ['other node_modules', (f) => f.url.includes('/node_modules/')],
  [
    'Node HTTP / net / streams',
    (f) =>
      /^node:(_http|http|net|stream|internal\/(http|streams|net|stream_base|timers|url|validators|errors|event_target|async_hooks|process\/task_queues)|events|timers|buffer|url|internal\/(buffer|util))/.test(
        f.url,
      ) || /node:internal\/(http|streams|net|stream_base)/.test(f.url),
  ],
  ['other node: internals', (f) => f.url.startsWith('node:')],
  ['V8 builtins / natives (no url)', (f) => f.url === ''],
  ['other', () => true],
];

/**
 * Calls whose inclusive time (the function and everything it called) is reported, matched by name (and url).
 * Express middleware calls the rest of the chain from inside itself: for those (label ending in `*`), a sample only
 * counts while no router `next` lies between it and the middleware, i.e. the middleware's own work.
 */
const WATCHED: Array<[string, (frame: CallFrame) => boolean]> = [
  ['writev (socket, several chunks)', (f) => f.functionName === 'writev' || f.functionName === 'writevGeneric'],
  ['writeBuffer/writeUtf8String (socket, one chunk)', (f) => /^(writeGeneric|handleWriteReq)$/.test(f.functionName)],
  ['ServerResponse.end', (f) => f.functionName === 'end' && f.url.includes('_http_outgoing')],
  ['Express res.send', (f) => f.functionName === 'send' && f.url.includes('/express/lib/response')],
  ['Express res.json', (f) => f.functionName === 'json' && f.url.includes('/express/lib/response')],
  ['ETag (etag / generateETag)', (f) => f.url.includes('/node_modules/etag/') && f.functionName === 'etag'],
  ['JSON.stringify', (f) => f.functionName === 'stringify'],
  ['JSON.parse', (f) => f.functionName === 'parse' && f.url === ''],
  ['ValidationPipe.transform', (f) => f.functionName === 'transform' && f.url.includes('validation.pipe')],
  ['ThrottlerGuard.canActivate', (f) => f.functionName === 'canActivate' && f.url.includes('throttler')],
  ['body parsers (json, urlencoded) *', (f) => /^(jsonParser|urlencodedParser)$/.test(f.functionName)],
  ['managementOnly filter *', (f) => f.url.includes('management-server')],
  ['rejectDeepJson *', (f) => f.functionName === 'rejectDeepJson'],
  ['serveStatic (swagger-ui assets) *', (f) => f.functionName === 'serveStatic'],
  [
    'Express router: matching layers to the path',
    (f) => /^(matchLayer|match)$/.test(f.functionName) && f.url.includes('/router/'),
  ],
  ['Nest router execution context', (f) => f.url.includes('router-execution-context')],
  ['controller availabilityOn', (f) => f.functionName === 'availabilityOn'],
  ['CacheService / observer', (f) => /cache-served\.observer|cache\.service/.test(f.url)],
  ['parserOnIncoming (whole request)', (f) => f.functionName === 'parserOnIncoming'],
];

interface Summary {
  file: string;
  requests?: number;
  busy: number;
  categories: Map<string, number>;
  functions: Map<string, number>;
  watched: Map<string, number>;
}

const isRouterNext = (f: CallFrame) => f.functionName === 'next' && f.url.includes('/router/');

/** Reads one profile (a directory: its main thread's, `--cpu-prof` numbering worker threads after it). */
function summarise(path: string): Summary {
  const file = statSync(path).isDirectory()
    ? join(
        path,
        readdirSync(path)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()[0]!,
      )
    : path;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const windowFile = join(dirname(file), 'window.json');
  const window = existsSync(windowFile)
    ? (JSON.parse(readFileSync(windowFile, 'utf8')) as { fromUs: number; toUs: number; requests: number })
    : undefined;

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i] ?? 0;
    if (window && (time < window.fromUs || time > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  const summary: Summary = {
    file,
    requests: window?.requests,
    busy: 0,
    categories: new Map(),
    functions: new Map(),
    watched: new Map(),
  };
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const category = CATEGORIES.find(([, match]) => match(frame))![0];
    if (category === 'idle') continue;
    summary.busy += us;
    add(summary.categories, category, us);
    const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(apps|libs)\//, '$1/');
    add(summary.functions, `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`, us);
    // Inclusive: book this sample once on each watched call found on its stack (recursion counted once).
    const seen = new Set<string>();
    let crossedNext = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const callFrame = byId.get(at)!.callFrame;
      const match = WATCHED.find(([, m]) => m(callFrame));
      if (match && !seen.has(match[0]) && !(crossedNext && match[0].endsWith('*'))) {
        seen.add(match[0]);
        add(summary.watched, match[0], us);
      }
      if (isRouterNext(callFrame)) crossedNext = true;
    }
  }
  return summary;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { against: { type: 'string' }, top: { type: 'string', default: '25' } },
});
if (positionals.length !== 1) {
  process.stderr.write('Usage: bench/profile-http-summary.ts <dir | file.cpuprofile> [--against <dir>] [--top n]\n');
  process.exit(2);
}
const subject = summarise(positionals[0]);
const base = values.against ? summarise(values.against) : undefined;

/** µs per request when the request count is known, else ms in the window. */
const per = (s: Summary, us: number) => (s.requests ? us / s.requests : us / 1_000);
const unit = subject.requests ? 'µs/req' : 'ms';
const figure = (s: Summary, us: number) =>
  `${per(s, us).toFixed(2).padStart(8)} ${((100 * us) / s.busy).toFixed(1).padStart(5)} %`;

function section(title: string, map: (s: Summary) => Map<string, number>, keys: string[]): void {
  process.stdout.write(`\n${title}\n`);
  for (const key of keys) {
    const mine = map(subject).get(key) ?? 0;
    let text = `  ${key.slice(0, 70).padEnd(70)} ${figure(subject, mine)}`;
    if (base) {
      const theirs = map(base).get(key) ?? 0;
      const delta = per(subject, mine) - per(base, theirs);
      text += `   ${figure(base, theirs)}   ${delta >= 0 ? '+' : ''}${delta.toFixed(2).padStart(7)}`;
    }
    process.stdout.write(`${text}\n`);
  }
}

const describe = (s: Summary) =>
  `${s.file}: busy ${per(s, s.busy).toFixed(1)} ${unit}` +
  (s.requests ? ` over ${s.requests} requests` : ' (whole run)');
process.stdout.write(`${describe(subject)}\n`);
if (base)
  process.stdout.write(
    `against ${describe(base)}\ncolumns: ${unit} and share of busy time, then the same for the second profile, then the difference\n`,
  );
const byDelta = (map: (s: Summary) => Map<string, number>) => {
  const keys = new Set([...map(subject).keys(), ...(base ? map(base).keys() : [])]);
  const delta = (k: string) => per(subject, map(subject).get(k) ?? 0) - (base ? per(base, map(base).get(k) ?? 0) : 0);
  return [...keys].sort((a, b) => Math.abs(delta(b)) - Math.abs(delta(a)));
};
section(
  'By where the code lives (self time):',
  (s) => s.categories,
  byDelta((s) => s.categories),
);
section(
  'Inclusive time of watched calls (* = own work only, the rest of the chain excluded):',
  (s) => s.watched,
  WATCHED.map(([label]) => label),
);
section(
  base ? `Top ${values.top} functions by difference of self time:` : `Top ${values.top} functions by self time:`,
  (s) => s.functions,
  byDelta((s) => s.functions).slice(0, Number(values.top)),
);
