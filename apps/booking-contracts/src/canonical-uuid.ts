/** A UUID in any letter case (RFC 9562 reads them case-insensitively); versions 1 to 8, as class-validator allows. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The canonical (lower-case) form of a UUID, or `undefined` when `value` is not one. Ids become lock resources,
 * fencing counters, cache keys and cache tags as they are written; `DE25…` and `de25…` name the same row in
 * PostgreSQL but would be two locks and two cache entries in Redis, so every id is put in this form at the edge.
 *
 * @param value anything a client or a stream entry sent
 */
export function canonicalUuid(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}
