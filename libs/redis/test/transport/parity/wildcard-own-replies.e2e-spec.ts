import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { ClientProxy, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { RedisTransportServer } from '@app/redis/transport';
import { LogCapture, REDIS_URL } from '@test/harness';
import { RECORDER, Recorder } from '../fixtures/transport-fixtures.js';
import { PAIRINGS, startParityApp } from './fixtures/pairings.js';

/** A request handler and an event handler whose globs also match reply channels (and no request channel). */
function greedyController(requestPattern: string, eventPattern: string) {
  @Controller()
  class GreedyController {
    constructor(@Inject(RECORDER) readonly recorder: Recorder) {}

    @MessagePattern(requestPattern)
    double(@Payload() n: number) {
      this.recorder.push({ pattern: 'request', data: n });
      return n * 2;
    }

    @EventPattern<string>(eventPattern)
    anything(@Payload() data: unknown) {
      this.recorder.push({ pattern: 'event', data });
    }
  }
  return GreedyController;
}

describe('RedisTransportServer › its own reply traffic under wildcard subscriptions', () => {
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;

  afterEach(async () => {
    await client?.close();
    await app?.close();
    client = app = undefined;
  });

  it.each(PAIRINGS.filter((p) => p.ourServer))(
    'ignores the replies its globs match, without a handler call or a log line ($name)',
    async (pairing) => {
      const ns = `t-own-replies-${randomBytes(4).toString('hex')}`;
      const recorder = new Recorder();
      const logs = new LogCapture();
      // `<ns>.calc.*` and `<ns>.*.reply` match `<ns>.calc.double.reply` (the built-in client's reply channel); with
      // channelPrefix `<ns>:`, `calc.*` matches `<ns>:calc.double.reply` and `_*` our client's `<ns>:_reply:…`.
      const ours = pairing.ourClient;
      const server = ours
        ? new RedisTransportServer({ url: REDIS_URL, wildcards: true, channelPrefix: `${ns}:` })
        : new RedisTransportServer({ url: REDIS_URL, wildcards: true });
      const controller = ours ? greedyController('calc.*', '_*') : greedyController(`${ns}.calc.*`, `${ns}.*.reply`);
      app = await startParityApp(server, [controller], recorder, logs.logger);
      client = pairing.client(ours ? { channelPrefix: `${ns}:` } : {});
      await client.connect();
      const pattern = ours ? 'calc.double' : `${ns}.calc.double`;

      const replies = [];
      for (let n = 1; n <= 5; n++) replies.push(await firstValueFrom(client.send<number>(pattern, n)));
      // Give stray reply messages time to arrive at the server before looking at what it did.
      await new Promise((resolve) => setTimeout(resolve, 200));

      expect(replies).toEqual([2, 4, 6, 8, 10]);
      expect(recorder.events).toEqual([1, 2, 3, 4, 5].map((n) => ({ pattern: 'request', data: n })));
      expect(logs.lines.filter((line) => /^(warn|error|fatal):/.test(line))).toEqual([]);
    },
  );
});
