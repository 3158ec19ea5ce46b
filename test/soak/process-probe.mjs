/**
 * Preloaded into each demo app by the demo soak (`node --import ./test/soak/process-probe.mjs …`): the apps' own
 * `/metrics` carry the library's Redis metrics only, not Node's process figures, so this probe measures them from
 * inside the process. With `SOAK_PROBE_PORT` set, `GET /` on 127.0.0.1:<port> answers
 * `{ rssBytes, heapUsedBytes, heapTotalBytes, lagP99Ms, lagMaxMs }` (event-loop delay since the previous read, then
 * reset, so one read per minute gives that minute's p99). Without the variable it does nothing.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const port = Number(process.env.SOAK_PROBE_PORT);
if (Number.isInteger(port) && port > 0) {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const server = createServer((request, response) => {
    const memory = process.memoryUsage();
    const body = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      lagP99Ms: lag.count > 0 ? lag.percentile(99) / 1e6 : 0,
      lagMaxMs: lag.count > 0 ? lag.max / 1e6 : 0,
    };
    lag.reset();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  // Unref'd: the probe never keeps an app alive, nor delays its shutdown.
  server.listen(port, '127.0.0.1').unref();
}
