import type { Redis } from 'ioredis';

/** The connections a Redis server currently has whose `CLIENT SETNAME` starts with `namePrefix`. */
export async function clientsNamed(observer: Redis, namePrefix: string): Promise<string[]> {
  return (await clientLinesNamed(observer, namePrefix)).map(clientName);
}

/** The whole `CLIENT LIST` line of each connection whose name starts with `namePrefix`. */
export async function clientLinesNamed(observer: Redis, namePrefix: string): Promise<string[]> {
  const list = (await observer.client('LIST')) as string;
  return list.split('\n').filter((line) => clientName(line).startsWith(namePrefix));
}

function clientName(clientListLine: string): string {
  return /(?:^| )name=(\S*)/.exec(clientListLine)?.[1] ?? '';
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
