/**
 * The application's `RedisModule` configuration, as the transport reuses it (`moduleOptions` of
 * `RedisTransportServer` / `RedisTransportClient`): inject it with `@Inject(REDIS_MODULE_SETTINGS)` and pass it on
 * unchanged. Only `keyPrefix` is public; everything else in it is the library's own and may change in any release.
 */
export interface RedisModuleSettings {
  /** The module's `keyPrefix`, after validation. */
  readonly keyPrefix: string;
}
