export { REDIS_URL } from './redis-url.js';
export { uniqueKeyPrefix, deleteKeysWithPrefix } from './key-prefix.js';
export { freePort } from './free-port.js';
export { RedisServerProcess, type RedisServerOptions } from './redis-server-process.js';
export { RedisClusterProcesses } from './redis-cluster.js';
export { bootstrapTestingApp, silentLogger, LogCapture } from './bootstrap.js';
export { clientsNamed, eventually } from './client-list.js';
export { generateTlsCertificates, type TlsCertificates } from './tls-certificates.js';
export { RedisSentinelGroup } from './redis-sentinel-group.js';
