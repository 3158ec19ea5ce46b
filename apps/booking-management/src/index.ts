export { createManagementServer, isManagementRequest, managementOnly } from './management-server.js';
export { publicHealth } from './public-health.js';
export * from './demo-tracing.js';
