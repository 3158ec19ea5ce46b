import type { IncomingMessage } from 'node:http';
import { ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import { isManagementRequest } from './management-server.js';

/**
 * Runs a terminus health check and answers with what the caller's port may see. On the management port: the
 * terminus body as it is (Redis role and memory, stream backlogs, database engine). On the public port, where
 * kubelet probes: only `{ status }`, 200 or 503, since the status code is all a probe reads and the details map
 * the infrastructure for anyone who can reach the service.
 *
 * @param request the request, to tell the port it came in on
 * @param check the terminus check (it throws a 503 `ServiceUnavailableException` holding the result when down)
 */
export async function publicHealth(
  request: IncomingMessage,
  check: () => Promise<HealthCheckResult>,
): Promise<HealthCheckResult | { status: HealthCheckResult['status'] }> {
  if (isManagementRequest(request)) return check();
  try {
    const { status } = await check();
    return { status };
  } catch (error) {
    if (error instanceof ServiceUnavailableException) throw new ServiceUnavailableException({ status: 'error' });
    throw error;
  }
}
