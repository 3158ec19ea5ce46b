import { inspect } from 'node:util';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { errorText } from '../utils/error-text.js';
import { redactSecrets } from '../utils/redact.js';
import { settleWithin } from '../utils/settle-within.js';
import { describeShape } from '../utils/rejected-input.reporter.js';
import { CREDENTIALS_PROVIDER_FAILED, CREDENTIALS_PROVIDER_INVALID } from './credentials.messages.js';
import type { RedisCredentials, RedisCredentialsProvider } from './redis-credentials.interface.js';

/** How many past passwords stay known for scrubbing log lines (a late error may quote an older one). */
const REMEMBERED_SECRETS = 8;

/**
 * A `username` / `password` value for ioredis that reads the latest fetched credentials when it is turned into a
 * command argument. ioredis copies `options.password` into the connection's AUTH / HELLO arguments when `connect()`
 * starts, before any hook could await a provider; it stringifies them only when the handshake command is built,
 * after the connector has connected. Handing it this object instead of a string lets the connector fetch first and
 * the handshake send what was fetched. It prints as `***` in JSON and `util.inspect`, so options dumps stay clean.
 */
class CredentialArgument {
  constructor(
    private readonly read: () => string,
    private readonly secret: boolean,
  ) {}

  toString(): string {
    return this.read();
  }

  toJSON(): string {
    return this.secret ? '***' : this.read();
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/**
 * The credentials of one configured connection whose `credentials` option is a function. Every client built from
 * that connection's options (the connection itself, its duplicates, Cluster node connections, Redlock node and
 * transport connections) shares this object through `options.username` / `options.password`, and its connector
 * calls {@link refresh} before each connection attempt.
 */
export class RotatingCredentials {
  /** Known secrets to scrub from messages; updated in place, so holders of this array see rotated passwords. */
  readonly secrets: string[];
  readonly username = new CredentialArgument(() => this.current?.username ?? this.fallbackUsername ?? 'default', false);
  readonly password = new CredentialArgument(() => this.current?.password ?? '', true);
  private current?: RedisCredentials;
  private readonly staticSecretCount: number;

  /**
   * @param provider the user's function
   * @param field the option path, named in errors (`credentials`, `connections.cache.credentials`)
   * @param fallbackUsername the user name from `url` or `redisOptions`, used when the provider returns none
   * @param staticSecrets other secrets of the connection (a sentinel password) to scrub as well
   */
  constructor(
    private readonly provider: RedisCredentialsProvider,
    readonly field: string,
    private readonly fallbackUsername: string | undefined,
    staticSecrets: string[],
  ) {
    this.secrets = [...staticSecrets];
    this.staticSecretCount = staticSecrets.length;
  }

  /** Whether a fetch has succeeded yet (a connection can then go on with the last credentials if a fetch fails). */
  get fetched(): boolean {
    return this.current !== undefined;
  }

  /**
   * Calls the provider and keeps what it returned. Rejects with a `RedisOptionsError` naming the option when the
   * function throws, does not answer within `timeoutMs` (a hung token issuer must not hold a reconnect forever) or
   * returns something else than `{ username?, password }`; the message never holds a secret.
   */
  async refresh(timeoutMs: number): Promise<void> {
    let value: unknown;
    try {
      value = await settleWithin(
        Promise.resolve().then(() => this.provider()),
        timeoutMs,
        () => new Error(`no answer within ${timeoutMs} ms`),
      );
    } catch (error) {
      throw new RedisOptionsError(
        CREDENTIALS_PROVIDER_FAILED(this.field, redactSecrets(errorText(error), this.secrets)),
        this.field,
      );
    }
    this.current = this.validate(value);
    this.remember(this.current.password);
  }

  private validate(value: unknown): RedisCredentials {
    const invalid = (got: string) => new RedisOptionsError(CREDENTIALS_PROVIDER_INVALID(this.field, got), this.field);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw invalid(value === undefined ? 'nothing' : describeShape(value));
    const { username, password } = value as Record<string, unknown>;
    if (typeof password !== 'string' || password.length === 0) {
      throw invalid(`an object whose password is ${password === '' ? 'empty' : describeShape(password)}`);
    }
    if (username !== undefined && (typeof username !== 'string' || username.length === 0)) {
      throw invalid(`an object whose username is ${username === '' ? 'empty' : describeShape(username)}`);
    }
    return { username, password };
  }

  private remember(secret: string): void {
    if (this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    const rotated = this.secrets.length - this.staticSecretCount;
    if (rotated > REMEMBERED_SECRETS) this.secrets.splice(this.staticSecretCount, rotated - REMEMBERED_SECRETS);
  }
}

/** Maps each password argument back to its credentials (the argument itself stays a plain value object). */
const owners = new WeakMap<CredentialArgument, RotatingCredentials>();

/** The rotating credentials behind a client's options, when its connection was configured with a function. */
export function rotatingCredentialsOf(options: { password?: unknown }): RotatingCredentials | undefined {
  const password = options.password;
  return password instanceof CredentialArgument ? owners.get(password) : undefined;
}

/** Creates the credentials for a connection and registers them so {@link rotatingCredentialsOf} finds them. */
export function createRotatingCredentials(
  ...args: ConstructorParameters<typeof RotatingCredentials>
): RotatingCredentials {
  const credentials = new RotatingCredentials(...args);
  owners.set(credentials.password, credentials);
  return credentials;
}
