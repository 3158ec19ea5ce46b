import { deserialize, serialize } from 'node:v8';
import type { CacheSerializer } from './cache-serializer.interface.js';

/**
 * The default serializer: Node's structured clone wire format (`v8.serialize`). Chosen because it round-trips
 * exactly what cached method results usually hold (Date, BigInt, Map, Set, Buffer and typed arrays, RegExp,
 * nested and shared objects, `null`, `undefined` inside objects) natively in C++, with no per-key JavaScript
 * callbacks as a tagged-JSON reviver needs. What it does not keep: class prototypes (instances come back as plain
 * objects) and functions or symbols (refused). The format is versioned and newer Node releases read older ones.
 */
export class V8CacheSerializer implements CacheSerializer {
  readonly name = 'v8';

  serialize(value: unknown): Buffer {
    return serialize(value);
  }

  deserialize(data: Buffer): unknown {
    return deserialize(data);
  }
}
