import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Checks the `date` query parameter: a `YYYY-MM-DD` calendar day (a real one: no 2026-02-30) and answers 400 in the ValidationPipe's body shape
 * otherwise. A pipe rather than a query DTO: availability is the hot read path, and class-validator's
 * transform-and-validate would cost more than the cache hit it guards.
 */
@Injectable()
export class ParseDatePipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const match = typeof value === 'string' ? DATE.exec(value) : null;
    if (match) {
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
      const parsed = new Date(Date.UTC(year, month - 1, day));
      if (parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day) {
        return value as string;
      }
    }
    const problem = value === undefined ? 'is required' : 'must be a calendar date';
    throw new BadRequestException([`date ${problem}, formatted YYYY-MM-DD`]);
  }
}
