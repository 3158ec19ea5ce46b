import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { WORKER_CONFIG } from '../config/worker-config.constants.js';
import type { WorkerConfig } from '../config/worker-config.interface.js';

/** SHA-256 of a token: equal-length inputs for `timingSafeEqual`, whatever length the client sent. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Lets a request through only with `Authorization: Bearer <NOTIFICATIONS_TOKEN>`, compared in constant time (on
 * SHA-256 digests, so neither the content nor the length of the token leaks through timing). Without a configured
 * token every request is refused: the notifications hold customers' e-mail addresses, so the route fails closed.
 * Answers 401 with `WWW-Authenticate: Bearer` and never says which part was wrong.
 */
@Injectable()
export class NotificationsTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(WORKER_CONFIG) config: WorkerConfig) {
    this.expected = config.notificationsToken === undefined ? undefined : digest(config.notificationsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const header = http.getRequest<Request>().header('authorization') ?? '';
    const match = /^Bearer ([^\s]{1,512})$/.exec(header);
    const presented = match ? digest(match[1]!) : undefined;
    if (this.expected && presented && timingSafeEqual(this.expected, presented)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException('A valid bearer token is required.');
  }
}
