import type { ClusterOptions, RedisOptions } from 'ioredis';
import { CONFLICTING_OPTIONS } from '../redis.messages.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { ResolvedRedisConnection } from '../connection/resolved-redis-connection.interface.js';
import { CredentialsConnector } from '../connection/credentials.connector.js';
import { DetectorSafeConnector } from '../connection/detector-safe.connector.js';
import type { RedisCredentialsProvider } from '../connection/redis-credentials.interface.js';
import { createRotatingCredentials } from '../connection/rotating-credentials.js';
import {
  fail,
  optionalBoolean,
  optionalDuration,
  optionalObject,
  optionalString,
  rejectUnknownKeys,
} from './option-checks.js';

export const CONNECTION_OPTION_KEYS = [
  'url',
  'username',
  'password',
  'credentials',
  'redisOptions',
  'sentinels',
  'name',
  'sentinelPassword',
  'cluster',
  'connectTimeout',
] as const;

/** @default 5000 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/**
 * ioredis waits this long for a half-closed socket before destroying it; its 2 s default keeps a process alive
 * after a failed startup or a shutdown during an outage.
 */
const DEFAULT_DISCONNECT_TIMEOUT_MS = 200;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;

interface UrlParts {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
}

function parseRedisUrl(value: string, field: string): UrlParts {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(field, 'a redis:// or rediss:// URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    fail(field, `a redis:// or rediss:// URL, not ${url.protocol}//`);
  }
  if (!url.hostname) fail(field, 'a URL with a host');
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  const dbText = url.pathname.replace(/^\//, '');
  let db: number | undefined;
  if (dbText !== '') {
    db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) fail(field, 'a database number as the URL path (e.g. /0)');
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    username: url.username ? decodeUrlPart(url.username, field, 'user name') : undefined,
    password: url.password ? decodeUrlPart(url.password, field, 'password') : undefined,
    db,
    tls: url.protocol === 'rediss:',
  };
}

/**
 * Percent-decodes the user name or password of a URL. A `%` not followed by two hex digits (a password holding a
 * literal `%`) makes `decodeURIComponent` throw a bare `URIError`: it becomes a `RedisOptionsError` naming the field
 * and the fix, without the text (it is a secret).
 */
function decodeUrlPart(text: string, field: string, part: 'user name' | 'password'): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(field, `a URL whose ${part} is percent-encoded (write a literal "%" as "%25")`);
  }
}

/** Parses `host:port`, `redis://host:port` or `{ host, port }`. */
export function parseNodeAddress(value: unknown, field: string): { host: string; port: number } {
  if (typeof value === 'string') {
    if (value.includes('://')) {
      const { host, port } = parseRedisUrl(value, field);
      return { host, port };
    }
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
    if (!match) fail(field, 'a "host:port" string, a redis:// URL or { host, port }', value);
    return { host: match[1], port: checkPort(Number(match[2]), field) };
  }
  const obj = optionalObject(value, field);
  if (!obj) return fail(field, 'a "host:port" string, a redis:// URL or { host, port }', value);
  const host = optionalString(obj.host, `${field}.host`, { nonEmpty: true });
  if (host === undefined) fail(`${field}.host`, 'a non-empty string', undefined);
  return { host, port: checkPort(obj.port, `${field}.port`) };
}

function checkPort(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) {
    fail(field, 'a port number between 1 and 65535', value);
  }
  return value;
}

function parseNodeList(value: unknown, field: string): Array<{ host: string; port: number }> {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'a non-empty array of node addresses', value);
  return value.map((node, i) => parseNodeAddress(node, `${field}[${i}]`));
}

/** What `credentials` resolved to: fixed values merged like `username`/`password`, or a function to call per connect. */
type CredentialsOption =
  { kind: 'fixed'; username?: string; password: string } | { kind: 'function'; provider: RedisCredentialsProvider };

function parseCredentials(raw: Record<string, unknown>, field: string, at: (key: string) => string) {
  const value = raw.credentials;
  if (value === undefined) return undefined;
  const others = ['username', 'password'].filter((k) => raw[k] !== undefined);
  if (others.length > 0) throw new RedisOptionsError(CONFLICTING_OPTIONS(field, others.map(at)), field);
  if (typeof value === 'function') return { kind: 'function', provider: value as RedisCredentialsProvider } as const;
  const obj = optionalObject(value, field);
  if (!obj) return fail(field, 'a function returning { username?, password } or such an object', value);
  rejectUnknownKeys(obj, ['username', 'password'], field);
  const username = optionalString(obj.username, `${field}.username`, { nonEmpty: true });
  const password = optionalString(obj.password, `${field}.password`, { nonEmpty: true });
  if (password === undefined) fail(`${field}.password`, 'a non-empty string', undefined);
  return { kind: 'fixed', username, password } satisfies CredentialsOption;
}

/**
 * The ioredis options that authenticate with `credentials`: fixed values as plain strings, or for a function the
 * rotating values and the connector that fetches them before each connection attempt.
 */
function credentialsOptions(
  credentials: CredentialsOption | undefined,
  field: string,
  fallbackUsername: string | undefined,
  staticSecrets: Array<string | undefined>,
): Partial<RedisOptions> {
  if (!credentials) return {};
  if (credentials.kind === 'fixed') {
    return {
      ...(credentials.username !== undefined && { username: credentials.username }),
      password: credentials.password,
    };
  }
  const rotating = createRotatingCredentials(
    credentials.provider,
    field,
    fallbackUsername,
    staticSecrets.filter((s): s is string => typeof s === 'string' && s.length > 0),
  );
  // ioredis types these as strings; it only stringifies them when it builds the AUTH / HELLO command.
  return {
    username: rotating.username as unknown as string,
    password: rotating.password as unknown as string,
    Connector: CredentialsConnector,
  };
}

/**
 * Validates one connection's options and turns them into the ioredis options the factory uses.
 *
 * @param raw the user's connection options
 * @param path option path used in error messages (`''` for the top level, `connections.name` otherwise)
 * @param name connection name
 * @param clientName prefix of the `CLIENT SETNAME` the connection announces
 */
export function resolveConnectionOptions(
  raw: Record<string, unknown>,
  path: string,
  name: string,
  clientName: string,
  extraKeys: readonly string[] = [],
): ResolvedRedisConnection {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  rejectUnknownKeys(raw, [...CONNECTION_OPTION_KEYS, ...extraKeys], path);

  const url = optionalString(raw.url, at('url'), { nonEmpty: true });
  const username = optionalString(raw.username, at('username'));
  const password = optionalString(raw.password, at('password'));
  const credentials = parseCredentials(raw, at('credentials'), at);
  const redisOptions = optionalObject(raw.redisOptions, at('redisOptions'));
  const sentinelName = optionalString(raw.name, at('name'), { nonEmpty: true });
  const sentinelPassword = optionalString(raw.sentinelPassword, at('sentinelPassword'));
  const cluster = optionalObject(raw.cluster, at('cluster'));
  const connectTimeout =
    optionalDuration(raw.connectTimeout, at('connectTimeout'), { min: 1, max: 600_000 }) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const connectionName = `${clientName}:${name}`;

  if (redisOptions && 'keyPrefix' in redisOptions) {
    throw new RedisOptionsError(
      `Invalid RedisModule option "${at('redisOptions.keyPrefix')}": use the top-level "keyPrefix", which the library applies to every key it writes.`,
      at('redisOptions.keyPrefix'),
    );
  }

  if (cluster) {
    const others = ['url', 'sentinels', 'redisOptions'].filter((k) => raw[k] !== undefined);
    if (others.length > 0)
      throw new RedisOptionsError(CONFLICTING_OPTIONS(at('cluster'), others.map(at)), at('cluster'));
    rejectUnknownKeys(cluster, ['nodes', 'options', 'shardedPubSub'], at('cluster'));
    const nodes = parseNodeList(cluster.nodes, at('cluster.nodes'));
    const shardedPubSub = optionalBoolean(cluster.shardedPubSub, at('cluster.shardedPubSub')) ?? true;
    const clusterOptions = (optionalObject(cluster.options, at('cluster.options')) ?? {}) as ClusterOptions;
    if ('keyPrefix' in clusterOptions || (clusterOptions.redisOptions && 'keyPrefix' in clusterOptions.redisOptions)) {
      throw new RedisOptionsError(
        `Invalid RedisModule option "${at('cluster.options.keyPrefix')}": use the top-level "keyPrefix".`,
        at('cluster.options.keyPrefix'),
      );
    }
    const options: ClusterOptions = {
      ...clusterOptions,
      lazyConnect: true,
      redisOptions: {
        connectTimeout,
        disconnectTimeout: DEFAULT_DISCONNECT_TIMEOUT_MS,
        ...clusterOptions.redisOptions,
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password }),
        ...credentialsOptions(credentials, at('credentials'), clusterOptions.redisOptions?.username, []),
        connectionName,
      },
    };
    return { kind: 'cluster', name, connectTimeout, nodes, options, shardedPubSub };
  }

  if (raw.sentinels !== undefined) {
    if (url !== undefined)
      throw new RedisOptionsError(CONFLICTING_OPTIONS(at('sentinels'), [at('url')]), at('sentinels'));
    const sentinels = parseNodeList(raw.sentinels, at('sentinels'));
    if (sentinelName === undefined)
      fail(at('name'), 'the master group name the sentinels watch (required with "sentinels")');
    const options: RedisOptions = {
      connectTimeout,
      disconnectTimeout: DEFAULT_DISCONNECT_TIMEOUT_MS,
      // Listen for the sentinels' +switch-master and leave a demoted master at once. Without it a connection stays on
      // the old master after a failover until Sentinel reconfigures that node as a replica (about 10 s here), and
      // every write it acknowledges meanwhile is lost in the resync: a probe lost ~10 s of acknowledged writes per
      // SENTINEL FAILOVER without it, ~1 s with it (test/soak/sentinel-failover-write-loss.ts). Overridable.
      failoverDetector: true,
      // That detector closes the connector on +switch-master; landing mid-reconnect it would end the client for good.
      Connector: DetectorSafeConnector,
      ...(redisOptions as RedisOptions | undefined),
      sentinels,
      name: sentinelName,
      ...(sentinelPassword !== undefined && { sentinelPassword }),
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...credentialsOptions(credentials, at('credentials'), (redisOptions as RedisOptions | undefined)?.username, [
        sentinelPassword,
        (redisOptions as RedisOptions | undefined)?.sentinelPassword,
      ]),
      lazyConnect: true,
      connectionName,
    };
    return { kind: 'sentinel', name, connectTimeout, options };
  }
  if (sentinelName !== undefined)
    fail(at('sentinels'), 'a non-empty array of sentinel addresses (required with "name")');

  const fromUrl = url !== undefined ? parseRedisUrl(url, at('url')) : undefined;
  const options: RedisOptions = {
    host: fromUrl?.host ?? DEFAULT_HOST,
    port: fromUrl?.port ?? DEFAULT_PORT,
    connectTimeout,
    disconnectTimeout: DEFAULT_DISCONNECT_TIMEOUT_MS,
    ...(fromUrl?.username !== undefined && { username: fromUrl.username }),
    ...(fromUrl?.password !== undefined && { password: fromUrl.password }),
    ...(fromUrl?.db !== undefined && { db: fromUrl.db }),
    ...(fromUrl?.tls && { tls: {} }),
    ...(redisOptions as RedisOptions | undefined),
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...credentialsOptions(
      credentials,
      at('credentials'),
      (redisOptions as RedisOptions | undefined)?.username ?? fromUrl?.username,
      [],
    ),
    lazyConnect: true,
    connectionName,
  };
  return { kind: 'standalone', name, connectTimeout, options };
}
