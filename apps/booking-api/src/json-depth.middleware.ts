import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Deepest JSON body accepted; the API's DTOs are one or two levels deep. */
export const MAX_JSON_DEPTH = 16;

/** Whether `value` nests objects or arrays deeper than `max` (iterative: a hostile body cannot overflow the stack). */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Answers 400 to a JSON body nested deeper than {@link MAX_JSON_DEPTH}, before validation: class-transformer walks
 * bodies recursively, so a 16 kB body of nested arrays would otherwise overflow its stack and answer 500.
 */
export function rejectDeepJson(req: Request, _res: Response, next: NextFunction): void {
  if (deeperThan(req.body, MAX_JSON_DEPTH)) {
    next(new BadRequestException([`body must not be nested deeper than ${MAX_JSON_DEPTH} levels`]));
    return;
  }
  next();
}
