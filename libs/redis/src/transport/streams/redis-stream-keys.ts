import type { ResolvedRedisCoreOptions } from '../../connection/resolved-redis-connection.interface.js';
import { RedisKeyspace } from '../../keyspace/redis-keyspace.js';

/**
 * Keys of the streams mode. The pattern is a hash tag, so a stream and its dead-letter stream live in the same
 * Cluster slot (the dead-lettering MULTI needs that) while different patterns spread over the slots.
 */
export class RedisStreamKeys {
  private readonly keyspace: RedisKeyspace;

  constructor(keyPrefix: string) {
    // The keyspace reads nothing but the prefix: the transport may run without the module (own connection options).
    this.keyspace = new RedisKeyspace({ keyPrefix } as Pick<
      ResolvedRedisCoreOptions,
      'keyPrefix'
    > as ResolvedRedisCoreOptions);
  }

  /** `<keyPrefix>stream:{<pattern>}` */
  stream(pattern: string): string {
    return this.keyspace.key('stream', `{${pattern}}`);
  }

  /** `<keyPrefix>stream:{<pattern>}:dead` */
  deadLetter(pattern: string): string {
    return this.keyspace.key('stream', `{${pattern}}`, 'dead');
  }
}
