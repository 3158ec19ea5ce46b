import { fail, optionalBoolean, optionalDuration, optionalString } from '../options/option-checks.js';

/** Checks the options of a cache decorator at decoration time, naming the decorator, class and method. */
export function validateCacheDecoratorOptions(decorator: string, known: readonly string[]) {
  return (raw: object | undefined, where: string): void => {
    if (raw === undefined) return;
    const options = raw as Record<string, unknown>;
    const field = (name: string) => `${decorator}.${name} on ${where}`;
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      fail(`${decorator} on ${where}`, 'an options object', options);
    }
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) fail(field(key), `one of the known options (${known.join(', ')})`);
    }
    optionalDuration(options.ttl, field('ttl'));
    optionalDuration(options.staleTtl, field('staleTtl'), { min: 0 });
    optionalString(options.name, field('name'), { nonEmpty: true });
    optionalBoolean(options.allEntries, field('allEntries'));
    optionalBoolean(options.beforeInvocation, field('beforeInvocation'));
    const key = options.key;
    if (key !== undefined && typeof key !== 'function') {
      const keys = Array.isArray(key) ? key : [key];
      if (keys.length === 0 || keys.some((k) => typeof k !== 'string' || k.length === 0)) {
        fail(field('key'), 'a non-empty string, an array of them, or a function of the arguments', key);
      }
    }
    const tags = options.tags;
    if (tags !== undefined && typeof tags !== 'function') {
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length === 0)) {
        fail(field('tags'), 'an array of non-empty strings or a function of the arguments', tags);
      }
    }
    if (decorator === '@CacheEvict' && options.key === undefined && options.tags === undefined && !options.allEntries) {
      fail(`${decorator} on ${where}`, 'at least one of key, tags or allEntries: true');
    }
    for (const fn of ['condition', 'unless']) {
      if (options[fn] !== undefined && typeof options[fn] !== 'function') fail(field(fn), 'a function', options[fn]);
    }
  };
}
