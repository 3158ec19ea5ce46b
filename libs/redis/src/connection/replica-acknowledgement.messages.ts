/** Messages of `replica-acknowledgement.ts`: `option` is the full option label, such as `RedisTransport option "streams.durability"`. */

export const REPLICAS_MISSING = (option: string, node: string, connected: number, replicas: number): string =>
  `Invalid ${option}.replicas": ${replicas} replica acknowledgement(s) asked for, but the master at ${node} has ${connected} connected replica(s).`;

export const FSYNC_UNSUPPORTED = (option: string, node: string, version: string): string =>
  `Invalid ${option}.fsync": it needs WAITAOF (Redis 7.2 or later), but the master at ${node} runs Redis ${version}.`;
