export { REDIS_URL } from './redis-url.js';
export { uniqueKeyPrefix, deleteKeysWithPrefix } from './key-prefix.js';
export { freePort } from './free-port.js';
export { TcpProxy } from './tcp-proxy.js';
export { RedisServerProcess, type RedisServerOptions } from './redis-server-process.js';
export { RedisClusterProcesses } from './redis-cluster.js';
export { bootRedisModule, bootstrapTestingApp, silentLogger, startupError, LogCapture } from './bootstrap.js';
export { clientLinesNamed, clientsNamed, eventually } from './client-list.js';
export { generateTlsCertificates, type TlsCertificates } from './tls-certificates.js';
export { RedisSentinelGroup } from './redis-sentinel-group.js';
export { useTestApps } from './test-apps.js';
export { useRedisClient, type RedisClientUse } from './redis-client.js';
export {
  singleNode,
  redisCluster,
  type RedisTopology,
  type RunningTopology,
  type TopologyConnection,
} from './redis-topology.js';
export { type ReadyWorker, whenReady } from './ready-worker.js';
export { maxOverlap, type TimeInterval } from './max-overlap.js';
export { type PubSubCounters, pubSubCounters, pubSubDelta, sumOf } from './pubsub-counters.js';
export { BUS_HEADER_BYTES, busBytesOut, type BytesOut, ClusterBytesOut, totalBytesOut } from './cluster-bytes-out.js';
