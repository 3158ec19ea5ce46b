import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom, type Observable, ReplaySubject } from 'rxjs';
import { Recorder } from '../fixtures/transport-fixtures.js';
import { drainController } from './fixtures/parity.controllers.js';
import { PAIRINGS, startParityApp } from './fixtures/pairings.js';

const SLOW_MS = 300;

/** Subscribes now and replays what came, so the test can wait for the first value and still see the end. */
function record<T>(source: Observable<T>): ReplaySubject<T> {
  const replay = new ReplaySubject<T>();
  source.subscribe(replay);
  return replay;
}

describe.each(PAIRINGS.filter((p) => p.ourServer))('RedisTransportServer close() › $name', (pairing) => {
  let ns: string;
  let recorder: Recorder;
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;

  async function start(): Promise<{ app: INestMicroservice; client: ClientProxy }> {
    ns = `t-drain-${randomBytes(4).toString('hex')}`;
    recorder = new Recorder();
    // The default shutdownTimeout (10 s) applies: nothing here may wait for it.
    app = await startParityApp(pairing.server(), [drainController(ns, SLOW_MS)], recorder);
    client = pairing.client();
    await client.connect();
    return { app, client };
  }

  afterEach(async () => {
    await client?.close();
    await app?.close();
    client = app = undefined;
  });

  it('returns within 1 s while a request handler’s observable never completes, failing that caller', async () => {
    const started = await start();
    const stream = record(started.client.send<string>(`${ns}.endless`, 1));
    await expect(firstValueFrom(stream)).resolves.toBe('first');

    const before = performance.now();
    await started.app.close();
    const elapsedMs = performance.now() - before;

    expect(elapsedMs).toBeLessThan(1_000);
    await expect(lastValueFrom(stream)).rejects.toEqual({
      status: 'error',
      message: 'The server closed before this reply stream completed.',
    });
  });

  it('waits for an event handler in flight to finish', async () => {
    const started = await start();
    await lastValueFrom(started.client.emit(`${ns}.slow-event`, 1), { defaultValue: undefined });
    await recorder.waitFor(1);
    await started.app.close();
    expect(recorder.events.map((e) => e.pattern)).toEqual(['slow-event:started', 'slow-event:finished']);
  });

  it('waits for a request handler’s promise in flight and delivers its reply', async () => {
    const started = await start();
    const reply = firstValueFrom(started.client.send<number>(`${ns}.slow-request`, 21));
    await recorder.waitFor(1);
    await started.app.close();
    await expect(reply).resolves.toBe(42);
    expect(recorder.events.map((e) => e.pattern)).toEqual(['slow-request:started', 'slow-request:finished']);
  });
});
