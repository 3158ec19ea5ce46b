/** One L1 entry: the decoded value and its Redis timestamps, plus when L1 must forget it. */
export interface L1Entry {
  value: unknown;
  createdAt: number;
  freshUntil: number;
  expiresAt: number;
}

/**
 * An approximate LRU in two generations (the scheme of `quick-lru`): entries go to the young map; when it holds
 * half of `maxEntries` it becomes the old map and the previous old map is dropped. A hit in the young map is one
 * `Map.get` (no reordering, which is what makes a strict LRU slow); a hit in the old map promotes the entry. So
 * at most `maxEntries` entries are held, and what is dropped is what was not used for a whole generation. Entries
 * also expire by time.
 */
export class LruCache {
  private young = new Map<string, L1Entry>();
  private old = new Map<string, L1Entry>();
  private readonly generationSize: number;

  constructor(maxEntries: number) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: string, now: number): L1Entry | undefined {
    let entry = this.young.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > now) return entry;
      this.young.delete(key);
      return undefined;
    }
    entry = this.old.get(key);
    if (entry === undefined) return undefined;
    this.old.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.insert(key, entry);
    return entry;
  }

  set(key: string, entry: L1Entry): void {
    this.old.delete(key);
    if (this.young.has(key)) this.young.set(key, entry);
    else this.insert(key, entry);
  }

  delete(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private insert(key: string, entry: L1Entry): void {
    this.young.set(key, entry);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
