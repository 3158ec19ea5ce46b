import type { ResolvedRedisConnection } from './resolved-redis-connection.interface.js';
import { rotatingCredentialsOf } from './rotating-credentials.js';

/**
 * A human-readable address of a connection for logs and errors, built from the resolved options so it can never
 * contain a password: `redis://user@host:6379/0`, `sentinel "mymaster" via h1:26379,h2:26379`, `cluster h1:7000,…`.
 */
export function describeConnection(connection: ResolvedRedisConnection): string {
  switch (connection.kind) {
    case 'cluster':
      return `cluster ${connection.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
    case 'sentinel': {
      const sentinels = (connection.options.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(',');
      return `sentinel "${connection.options.name}" via ${sentinels}`;
    }
    case 'standalone': {
      const { host, port, username, db, tls, path } = connection.options;
      if (path) return `unix:${path}`;
      const user = username ? `${encodeURIComponent(username)}@` : '';
      const hostPart = host?.includes(':') ? `[${host}]` : host;
      return `${tls ? 'rediss' : 'redis'}://${user}${hostPart}:${port}${db ? `/${db}` : ''}`;
    }
  }
}

/**
 * The secrets a connection's options hold, for scrubbing driver messages before they are logged. With a credentials
 * function this is a live array: passwords fetched later are added to it in place, so holders keep scrubbing them.
 */
export function connectionSecrets(connection: ResolvedRedisConnection): string[] {
  const options = connection.kind === 'cluster' ? (connection.options.redisOptions ?? {}) : connection.options;
  const rotating = rotatingCredentialsOf(options);
  if (rotating) return rotating.secrets;
  const sentinelPassword = connection.kind === 'sentinel' ? connection.options.sentinelPassword : undefined;
  return [options.password, sentinelPassword].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
