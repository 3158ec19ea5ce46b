import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { RedisConnectionError } from '@app/redis';
import { RedisTransportClient, RedisTransportTimeoutError } from '@app/redis/transport';
import { RedisServerProcess, REDIS_URL } from '@test/harness';

describe('RedisTransportClient › a send() that fails because Redis is unreachable', () => {
  let redis: RedisServerProcess;
  let client: RedisTransportClient | undefined;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('says Redis is unreachable when the connection went down, not that no server handles the pattern', async () => {
    if (!redis.running) await redis.restart();
    client = new RedisTransportClient({ url: redis.url, sendTimeout: 500 });
    await client.connect();
    await redis.stop({ keepDir: true });

    const error = await firstValueFrom(client.send('booking.quote', { seats: 2 })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RedisTransportTimeoutError);
    const { message } = error as Error;
    expect(message).toContain(`Redis at redis://127.0.0.1:${redis.port} is unreachable`);
    expect(message).toContain('"booking.quote"');
    expect(message).not.toMatch(/is a server handling/);
  });

  it('says Redis is unreachable when the client could not connect at all', async () => {
    if (redis.running) await redis.stop({ keepDir: true });
    client = new RedisTransportClient({ url: redis.url, sendTimeout: 5_000, connectTimeout: 300 });

    const error = await firstValueFrom(client.send('booking.quote', { seats: 2 })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Redis at redis:\\/\\/127\\.0\\.0\\.1:${redis.port} is unreachable: "booking\\.quote" was not sent \\(.+\\)\\.$`,
      ),
    );
  });

  it('still asks whether a server handles the pattern when Redis is up and nobody answers', async () => {
    client = new RedisTransportClient({ url: REDIS_URL, sendTimeout: 300 });
    await client.connect();

    const error = await firstValueFrom(client.send(`t-nobody-${Date.now()}`, 1)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RedisTransportTimeoutError);
    expect((error as Error).message).toMatch(/is a server handling this pattern\?/);
  });
});
