/** Message builders of the method-decorator machinery. */

export const METHOD_NOT_WRAPPED = (className: string, methodName: string, decorators: string[]): string =>
  `${className}.${methodName}() is decorated with ${decorators.join(', ')} but was called on an instance Nest did ` +
  'not set up: it was created with `new`, or its module was never initialised (call `app.init()` / ' +
  '`moduleRef.init()`, or `app.listen()`), or RedisModule was imported with isGlobal: false and the call came ' +
  "from an onModuleInit hook that ran before RedisModule's. Get the instance from the container " +
  '(`app.get(...)`, constructor injection) after init.';

export const NO_ASPECT_FOR_DECORATOR = (decorator: string, metadataKey: string, where: string): string =>
  `${where} is decorated with ${decorator}, but no aspect serves "${metadataKey}": register its aspect provider ` +
  '(marked with @Aspect) in a module of this application.';

export const DUPLICATE_ASPECT = (metadataKey: string, first: string, second: string): string =>
  `Two aspects serve "${metadataKey}": ${first} and ${second}; keep one.`;

export const REQUEST_SCOPED_WRAPPED = (className: string, methods: string[]): string =>
  `${className} is request-scoped or transient: ${methods.join(', ')} will be wrapped on first call of each new ` +
  'instance (decorators on the prototype, aspects from this application).';
