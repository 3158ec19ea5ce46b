import { Inject } from '@nestjs/common';
import { getRedisConnectionToken } from '../redis.constants.js';

/**
 * Injects a Redis connection (`Redis`, or `Cluster` when the connection is a cluster).
 *
 * @param name a connection from the `connections` option; the main connection when omitted
 * @example
 * ```ts
 * constructor(@InjectRedis() private readonly redis: Redis) {}
 * constructor(@InjectRedis('analytics') private readonly analytics: Redis) {}
 * ```
 */
export const InjectRedis = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getRedisConnectionToken(name));
