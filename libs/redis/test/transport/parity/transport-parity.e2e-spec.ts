import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import type {
  ClientProxy,
  ConsumerDeserializer,
  Deserializer,
  IncomingEvent,
  IncomingRequest,
  IncomingResponse,
} from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { REDIS_URL } from '@test/harness';
import { Recorder } from '../fixtures/transport-fixtures.js';
import { ALL_BYTES, parityController, requestScopedController } from './fixtures/parity.controllers.js';
import { PAIRINGS, type ParityServer, REFERENCE, startParityApp } from './fixtures/pairings.js';

/** Reads `<id>:<channel>:<raw bytes>` replies, as a user of the built-in's `returnBuffers` writes one. */
class RawReplyDeserializer implements Deserializer<Buffer, IncomingResponse> {
  deserialize(value: Buffer): IncomingResponse {
    const first = value.indexOf(':');
    const second = value.indexOf(':', first + 1);
    return {
      id: value.subarray(0, first).toString(),
      isDisposed: true,
      err: null,
      response: value.subarray(second + 1),
    };
  }
}

/** Turns a published text into an event on its channel; JSON packets pass through. */
class TextEventDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, options?: { channel?: string }): IncomingEvent | IncomingRequest {
    if (typeof value !== 'string') return value as IncomingEvent;
    return { pattern: options?.channel ?? '', data: { text: value } };
  }
}

// The reference run (built-in on both sides) shows that every expectation below is what Transport.REDIS itself does.
describe.each([...PAIRINGS, REFERENCE])('Redis transport parity with Transport.REDIS › $name', (pairing) => {
  const ns = `t-parity-${randomBytes(4).toString('hex')}`;
  const recorder = new Recorder();
  let strategy: ParityServer;
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    strategy = pairing.server();
    app = await startParityApp(strategy, [parityController(ns), requestScopedController(ns)], recorder);
    client = pairing.client();
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('answers a request with the handler’s value: plain, async, and on an object pattern', async () => {
    await expect(firstValueFrom(client.send(`${ns}.sum`, [1, 2, 3, 4, 5]))).resolves.toBe(15);
    await expect(firstValueFrom(client.send(`${ns}.async-sum`, [1, 2, 3, 4, 5]))).resolves.toBe(15);
    await expect(firstValueFrom(client.send({ ns, cmd: 'sum' }, [1, 2, 3, 4, 5]))).resolves.toBe(15);
  });

  it('streams every value of an observable handler in order, lastValueFrom getting the last one', async () => {
    await expect(lastValueFrom(client.send(`${ns}.values`, [1, 2, 3, 4, 5]).pipe(toArray()))).resolves.toEqual([
      1, 2, 3, 4, 5,
    ]);
    await expect(lastValueFrom(client.send(`${ns}.values`, ['a', 'b']))).resolves.toBe('b');
  });

  it('routes 50 concurrent requests each to its own reply', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => firstValueFrom(client.send<number>(`${ns}.sum`, [i, i, 1]))),
    );
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
  });

  it('delivers one emitted event to both @EventPattern handlers of its pattern', async () => {
    const start = recorder.events.length;
    await lastValueFrom(client.emit(`${ns}.booking.created`, { id: 7 }), { defaultValue: undefined });
    await recorder.waitFor(start + 2);
    const seen = recorder.events.slice(start);
    expect(seen.map((e) => e.pattern).sort()).toEqual(['first', 'second']);
    expect(seen.every((e) => (e.data as { id: number }).id === 7)).toBe(true);
  });

  it('broadcasts one event to every server subscribed to its pattern', async () => {
    const otherRecorder = new Recorder();
    const other = await startParityApp(pairing.server(), [parityController(ns)], otherRecorder);
    try {
      const start = recorder.events.length;
      await lastValueFrom(client.emit(`${ns}.booking.created`, { id: 8 }), { defaultValue: undefined });
      await recorder.waitFor(start + 2);
      await otherRecorder.waitFor(2);
      expect(otherRecorder.events.map((e) => e.data)).toEqual([{ id: 8 }, { id: 8 }]);
    } finally {
      await other.close();
    }
  });

  it('routes events and requests through wildcard patterns (PSUBSCRIBE), the context naming the concrete channel', async () => {
    const start = recorder.events.length;
    await lastValueFrom(client.emit(`${ns}.venue.opened`, { v: 1 }), { defaultValue: undefined });
    await recorder.waitFor(start + 1);
    expect(recorder.events[start]).toEqual({ pattern: 'venue.*', data: { v: 1 }, channel: `${ns}.venue.opened` });
    await expect(firstValueFrom(client.send(`${ns}.calc.add`, [2, 3]))).resolves.toEqual({
      channel: `${ns}.calc.add`,
      data: [2, 3],
    });
  });

  it('fails the caller with an RpcException’s error, shaped exactly as the built-in shapes it', async () => {
    await expect(firstValueFrom(client.send(`${ns}.rpc-error-object`, 'no seats'))).rejects.toEqual({
      code: 'E_BOOKING_FULL',
      message: 'no seats',
    });
    await expect(firstValueFrom(client.send(`${ns}.rpc-error-text`, 'no seats'))).rejects.toEqual({
      status: 'error',
      message: 'no seats',
    });
    await expect(firstValueFrom(client.send(`${ns}.crash`, 1))).rejects.toEqual({
      status: 'error',
      message: 'Internal server error',
    });
  });

  it('gives handlers a RedisContext whose getChannel() is the channel the request came on', async () => {
    await expect(firstValueFrom(client.send(`${ns}.context`, 'x'))).resolves.toEqual({
      channel: `${ns}.context`,
      isRedisContext: true,
      data: 'x',
    });
  });

  it('creates a request-scoped controller per message, with the request in CONTEXT', async () => {
    const first = await firstValueFrom(client.send<{ instanceId: string }>(`${ns}.scoped`, { n: 1 }));
    const second = await firstValueFrom(client.send<{ instanceId: string }>(`${ns}.scoped`, { n: 2 }));
    expect(first).toEqual({
      instanceId: expect.any(String),
      pattern: `${ns}.scoped`,
      data: { n: 1 },
      channel: `${ns}.scoped`,
    });
    expect(second).toMatchObject({ data: { n: 2 } });
    expect(second.instanceId).not.toBe(first.instanceId);
  });

  it('carries all 256 byte values as a Buffer in request data and in a reply, in the built-in’s JSON form', async () => {
    const { received, reply } = await firstValueFrom(
      client.send<{ received: unknown; reply: unknown }>(`${ns}.bytes`, ALL_BYTES),
    );
    // What JSON.stringify makes of a Buffer, both ways, as with the built-in on both sides.
    expect(received).toEqual({ type: 'Buffer', data: [...ALL_BYTES] });
    expect(reply).toEqual({ type: 'Buffer', data: [...ALL_BYTES] });
    expect(Buffer.from((reply as { data: number[] }).data).equals(ALL_BYTES)).toBe(true);
    const bare = await firstValueFrom(client.send<{ type: 'Buffer'; data: number[] }>(`${ns}.bytes-reply`, 1));
    expect(bare.type).toBe('Buffer');
    expect(Buffer.from(bare.data).equals(ALL_BYTES)).toBe(true);
  });

  it('hands raw non-UTF-8 reply bytes to a returnBuffers client’s deserializer byte for byte', async () => {
    const channel = `${ns}.raw`;
    const sub = new Redis(REDIS_URL);
    const pub = new Redis(REDIS_URL);
    const binaryClient = pairing.client({ returnBuffers: true, deserializer: new RawReplyDeserializer() });
    try {
      await sub.subscribe(channel);
      sub.on('message', (from: string, message: string) => {
        const { id } = JSON.parse(message) as { id: string };
        void pub.publish(`${from}.reply`, Buffer.concat([Buffer.from(`${id}:${from}:`), ALL_BYTES]));
      });
      await binaryClient.connect();
      const replies = await Promise.all([
        lastValueFrom(binaryClient.send<Buffer>(channel, 'a')),
        lastValueFrom(binaryClient.send<Buffer>(channel, 'b')),
      ]);
      for (const reply of replies) {
        expect(Buffer.isBuffer(reply)).toBe(true);
        expect(reply.equals(ALL_BYTES)).toBe(true);
      }
    } finally {
      await binaryClient.close();
      sub.disconnect();
      pub.disconnect();
    }
  });

  it('hands a message that is not JSON (or not UTF-8) to the server’s custom deserializer as the published text', async () => {
    const textRecorder = new Recorder();
    const textServer = await startParityApp(
      pairing.server({ deserializer: new TextEventDeserializer() }),
      [parityController(ns)],
      textRecorder,
    );
    const publisher = new Redis(REDIS_URL);
    try {
      await publisher.publish(`${ns}.booking.created`, 'not JSON: café');
      await textRecorder.waitFor(2);
      expect(textRecorder.events.map((e) => e.data)).toEqual([{ text: 'not JSON: café' }, { text: 'not JSON: café' }]);
      // Bytes that are not UTF-8 reach it as the built-in hands them over: decoded as UTF-8 (U+FFFD where invalid).
      const notUtf8 = Buffer.from([0xff, 0xfe, 0x61, 0xc3, 0x28, 0x80]);
      await publisher.publish(`${ns}.booking.created`, notUtf8);
      await textRecorder.waitFor(4);
      expect(textRecorder.events.slice(2).map((e) => e.data)).toEqual([
        { text: notUtf8.toString('utf8') },
        { text: notUtf8.toString('utf8') },
      ]);
      // Without a custom deserializer the built-in makes the text an event's data; ours drops it (documented).
      await new Promise((resolve) => setTimeout(resolve, 100));
      const rawEvents = recorder.events.filter((e) => e.data === 'not JSON: café').length;
      expect(rawEvents).toBe(pairing.ourServer ? 0 : 2);
    } finally {
      publisher.disconnect();
      await textServer.close();
    }
  });

  it('reports "connected" to status and to on() listeners, and unwrap() gives the [pub, sub] ioredis clients', async () => {
    const fresh = pairing.client();
    const roles: string[] = [];
    fresh.on('ready' as never, ((role: string) => roles.push(role)) as never);
    try {
      expect(() => fresh.unwrap()).toThrow(/Not initialized/);
      await fresh.connect();
      await expect(firstValueFrom(fresh.status)).resolves.toBe('connected');
      expect(roles.sort()).toEqual(['pub', 'sub']);
      const [pub, sub] = fresh.unwrap<[Redis, Redis]>();
      expect(pub).toBeInstanceOf(Redis);
      expect(sub).toBeInstanceOf(Redis);
      await expect(pub.ping()).resolves.toBe('PONG');
      await expect(firstValueFrom(strategy.status)).resolves.toBe('connected');
      const [serverPub, serverSub] = strategy.unwrap<[Redis, Redis]>();
      expect([serverPub.status, serverSub.status]).toEqual(['ready', 'ready']);
    } finally {
      await fresh.close();
    }
  });
});
