/** The keys of `T` missing from the list `K`, as a type error's message; `unknown` (no error) when none is. */
type AllKeysListed<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never]
  ? unknown
  : { 'missing option keys': Exclude<keyof T, K[number]> };

/**
 * The option keys of `T`, written out once and checked by the compiler both ways: a key `T` does not have, or a key
 * of `T` left out, fails the build. Validators list the keys they accept with it, so the list cannot drift from the
 * options type.
 *
 * @example
 * ```ts
 * const LOCK_OPTION_KEYS = optionKeys<LockModuleOptions>()(['ttl', 'waitTimeout', …]);
 * ```
 */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(keys: K & AllKeysListed<T, K>): K => keys;
}
