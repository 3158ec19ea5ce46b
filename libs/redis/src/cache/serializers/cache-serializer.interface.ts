/**
 * Turns cached values into bytes and back. Plug your own in the module's `cache.serializer` option (for example
 * JSON, to read entries from another language); it must round-trip `null`.
 */
export interface CacheSerializer {
  /** Short identifier, for logs. */
  readonly name: string;
  serialize(value: unknown): Buffer | Uint8Array | string;
  deserialize(data: Buffer): unknown;
  /**
   * Optional: decode the payload starting at `offset` of `data`, sparing the cache a `subarray` per hit.
   * Must answer what `deserialize(data.subarray(offset))` would.
   */
  deserializeAt?(data: Buffer, offset: number): unknown;
}
