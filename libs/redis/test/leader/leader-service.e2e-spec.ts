import { describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { RedisModule, RedisOptionsError } from '@app/redis';
import {
  type LeadershipChange,
  LeadershipLostError,
  LeaderService,
  type LeaderModuleOptions,
  RedisLeaderModule,
} from '@app/redis/leader';
import { REDIS_URL, eventually, uniqueKeyPrefix, useTestApps } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('leader-service');

describe('LeaderService', () => {
  const testApps = useTestApps(keyPrefix);
  const boot = async (options: LeaderModuleOptions) =>
    (
      await testApps.boot([
        RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
        RedisLeaderModule.forRoot({ retryDelay: 20, retryJitter: 10, ...options }),
      ])
    ).get(LeaderService);

  it('leads each configured election separately; unknown names are refused', async () => {
    const leader = await boot({ elections: ['alpha', 'beta'], ttl: 1_000 });
    expect(await eventually(() => leader.isLeader('alpha') && leader.isLeader('beta'))).toBe(true);
    expect(leader.isLeader()).toBe(true);
    expect(leader.fencingToken('alpha')).toBeGreaterThan(0);
    expect(leader.signal('beta')?.aborted).toBe(false);
    expect(() => leader.isLeader('gamma')).toThrow(RedisOptionsError);
  });

  it('stop() hands the lease to the waiting candidate and ends the term with reason "stopped"', async () => {
    const a = await boot({ elections: ['handover'], ttl: 5_000 });
    expect(await eventually(() => a.isLeader('handover'))).toBe(true);
    const b = await boot({ elections: ['handover'], ttl: 5_000 });
    const term = a.signal('handover') as AbortSignal;
    const gained = firstValueFrom(b.changes('handover').pipe(filter((c: LeadershipChange) => c.leader)));
    await a.stop('handover');
    const change = await gained;
    expect(b.isLeader('handover')).toBe(true);
    expect(a.isLeader('handover')).toBe(false);
    expect(change.fencingToken).toBeGreaterThan(0);
    expect(term.aborted).toBe(true);
    expect(term.reason).toBeInstanceOf(LeadershipLostError);
    expect(term.reason).toMatchObject({ reason: 'stopped', election: 'handover' });
  });

  it('a lease lost in Redis ends the term (signal, "lost" change), then the process campaigns again', async () => {
    const leader = await boot({ elections: ['fragile'], ttl: 600 });
    expect(await eventually(() => leader.isLeader('fragile'))).toBe(true);
    const firstToken = leader.fencingToken('fragile') as number;
    const term = leader.signal('fragile') as AbortSignal;
    const lost = firstValueFrom(leader.changes('fragile').pipe(filter((c: LeadershipChange) => !c.leader)));
    await testApps.redis.del(`${keyPrefix}lock:{leader:fragile}`);
    const change = await lost;
    expect(change).toMatchObject({ leader: false, fencingToken: firstToken });
    expect(term.reason).toMatchObject({ reason: 'lost', election: 'fragile' });
    expect(await eventually(() => leader.isLeader('fragile'), 5_000)).toBe(true);
    expect(leader.fencingToken('fragile')).toBeGreaterThan(firstToken);
  });

  it('autoStart: false waits for start()', async () => {
    const leader = await boot({ elections: ['manual'], autoStart: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(leader.isLeader('manual')).toBe(false);
    leader.start();
    expect(await eventually(() => leader.isLeader('manual'))).toBe(true);
  });

  it('refuses invalid options when the module is declared, naming the field', () => {
    expect(() => RedisLeaderModule.forRoot({ ttl: 10 })).toThrow(RedisOptionsError);
    expect(() => RedisLeaderModule.forRoot({ elections: ['a', 'a'] })).toThrow('leader.elections[1]');
  });
});
