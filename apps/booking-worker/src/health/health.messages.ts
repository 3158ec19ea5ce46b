/**
 * Messages reported by the health indicators. They name the situation and never the Redis address or credentials:
 * `/health` is reachable by anyone who can reach the port.
 */

export const REDIS_NOT_READY = (status: string): string => `Redis connection is not ready (status: ${status})`;

export const REDIS_PING_TIMED_OUT = (timeoutMs: number): string => `Redis did not answer PING within ${timeoutMs} ms`;

export const REDIS_PING_FAILED = (reason: string): string => `Redis PING failed (${reason})`;
