import type { Redis } from 'ioredis';

/** The connections a Redis server currently has whose `CLIENT SETNAME` starts with `namePrefix`. */
export async function clientsNamed(observer: Redis, namePrefix: string): Promise<string[]> {
  const list = (await observer.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(namePrefix));
}

/** Polls until `predicate` holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
  stepMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return predicate();
}
