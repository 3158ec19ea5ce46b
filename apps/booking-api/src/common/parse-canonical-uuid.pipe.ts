import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { canonicalUuid } from '../../../booking-contracts/src/index.js';

/**
 * Checks a route parameter is a UUID and hands it on in canonical (lower-case) form, so `DE25…` and `de25…` reach
 * the same lock, fencing counter, cache key and cache tag. Answers 400 as `ParseUUIDPipe` does otherwise.
 * Upper case is accepted rather than rejected: RFC 9562 reads UUIDs case-insensitively, and so does PostgreSQL.
 */
@Injectable()
export class ParseCanonicalUuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const canonical = canonicalUuid(value);
    if (canonical === undefined) throw new BadRequestException('Validation failed (uuid is expected)');
    return canonical;
  }
}
