import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Module,
  type OnModuleInit,
  Scope,
  SetMetadata,
  type INestApplicationContext,
} from '@nestjs/common';
import { ContextIdFactory, Reflector } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Cacheable, CacheService, MethodNotWrappedError, RedisModule, RedisOptionsError } from '@app/redis';
// The method-decorator kit is internal (not part of the public API): the suite tests it from the source.
import { Aspect } from '../../src/method-decorators/aspect.decorator.js';
import { createMethodDecorator } from '../../src/method-decorators/create-method-decorator.js';
import type {
  AnyMethod,
  MethodAspect,
  MethodWrapContext,
} from '../../src/method-decorators/method-aspect.interface.js';
import { REDIS_URL, bootstrapTestingApp, silentLogger, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const prefix = uniqueKeyPrefix('method-decorators');
const observer = useRedisClient({ deleteKeysUnder: prefix });

/** A test decorator of our own kind: records "trace:<label>:before/after" around the call. */
const TRACE_METADATA = 'test:trace';
const Trace = createMethodDecorator<{ label: string }>(TRACE_METADATA, '@Trace', (options) => {
  if (!options.label) throw new RedisOptionsError('label required', '@Trace.label');
});

const calls: string[] = [];

@Aspect(TRACE_METADATA)
@Injectable()
class TraceAspect implements MethodAspect<{ label: string }> {
  wrap({ instance, method, options }: MethodWrapContext<{ label: string }>): AnyMethod {
    return async (...args: unknown[]) => {
      calls.push(`${options.label}:before`);
      try {
        return await method.apply(instance, args);
      } finally {
        calls.push(`${options.label}:after`);
      }
    };
  }
}

/** A foreign decorator that replaces the method (as logging or tracing libraries do). */
function ForeignWrap(label: string): MethodDecorator {
  return (_target, _key, descriptor) => {
    const original = descriptor.value as unknown as AnyMethod;
    descriptor.value = function (this: object, ...args: unknown[]) {
      calls.push(`${label}:foreign`);
      return original.apply(this, args);
    } as typeof descriptor.value;
    return descriptor;
  };
}

@Injectable()
class StackedService {
  loads = 0;

  /** Trace on top: outermost, runs on every call, also on cache hits. */
  @Trace({ label: 'outer' })
  @Cacheable({ key: 'stacked:trace-outside', name: 'stacked.outside' })
  async traceOutside(): Promise<number> {
    calls.push('body');
    return ++this.loads;
  }

  /** Cacheable on top: a hit never reaches Trace. */
  @Cacheable({ key: 'stacked:cache-outside' })
  @Trace({ label: 'inner' })
  async cacheOutside(): Promise<number> {
    calls.push('body');
    return ++this.loads;
  }

  @SetMetadata('role', 'below')
  @Cacheable({ key: 'metadata:below' })
  async metadataBelow(): Promise<string> {
    return 'below';
  }

  @Cacheable({ key: 'metadata:above' })
  @SetMetadata('role', 'above')
  @MessagePattern('venues.get')
  async metadataAbove(): Promise<string> {
    return 'above';
  }

  @ForeignWrap('f-above')
  @Trace({ label: 't' })
  @ForeignWrap('f-below')
  @Trace({ label: 'u' })
  async mixed(): Promise<string> {
    calls.push('body');
    return 'mixed';
  }

  @Cacheable({ key: 'sync' })
  syncMethod(): number {
    return 42;
  }
}

@Injectable()
class EarlyCaller implements OnModuleInit {
  result?: number;
  constructor(private readonly stacked: StackedService) {}

  async onModuleInit(): Promise<void> {
    this.result = await this.stacked.cacheOutside();
  }
}

class FactoryMade {
  @Trace({ label: 'factory' })
  async hello(): Promise<string> {
    return 'hello';
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScoped {
  static loads = 0;

  @Cacheable({ key: 'request-scoped' })
  async load(): Promise<number> {
    return ++RequestScoped.loads;
  }
}

@Controller('stacked')
class StackedController {
  @Get()
  @Trace({ label: 'controller' })
  async get(): Promise<string> {
    return 'ok';
  }
}

@Module({
  providers: [
    StackedService,
    EarlyCaller,
    TraceAspect,
    RequestScoped,
    { provide: 'FACTORY_MADE', useFactory: () => new FactoryMade() },
    { provide: 'VALUE_MADE', useValue: new FactoryMade() },
  ],
  controllers: [StackedController],
})
class FixtureModule {}

describe('Method decorators (aspects installed by MethodDecoratorExplorer)', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    app = await bootstrapTestingApp([RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix }), FixtureModule]);
  });

  afterEach(() => {
    calls.length = 0;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('a decorated method called from another provider’s onModuleInit is already wrapped', async () => {
    expect(app.get(EarlyCaller).result).toBe(1);
    expect(await observer.exists(`${prefix}cache:{stacked:cache-outside}`)).toBe(1);
  });

  it('stacking: the decorator written on top is the outermost (Trace above Cacheable traces every call)', async () => {
    const service = app.get(StackedService);
    const first = await service.traceOutside();
    const second = await service.traceOutside();
    expect(second).toBe(first);
    expect(calls).toEqual(['outer:before', 'body', 'outer:after', 'outer:before', 'outer:after']);
  });

  it('stacking: Cacheable above Trace serves hits without entering Trace', async () => {
    const service = app.get(StackedService);
    await service.cacheOutside();
    expect(calls).toEqual([]);
  });

  it('keeps the name and every Reflect metadata, with other decorators on either side', () => {
    const reflector = app.get(Reflector);
    const proto = StackedService.prototype;
    expect(proto.metadataBelow.name).toBe('metadataBelow');
    expect(proto.metadataAbove.name).toBe('metadataAbove');
    expect(reflector.get('role', proto.metadataBelow)).toBe('below');
    expect(reflector.get('role', proto.metadataAbove)).toBe('above');
    expect(reflector.get('microservices:pattern', proto.metadataAbove)).toEqual(['venues.get']);
    expect(reflector.get('@localcloudlab/nest-redis:cacheable', proto.metadataAbove)).toEqual({
      key: 'metadata:above',
    });
  });

  it('foreign method-replacing decorators between ours keep their place in the chain', async () => {
    expect(await app.get(StackedService).mixed()).toBe('mixed');
    expect(calls).toEqual(['f-above:foreign', 't:before', 'f-below:foreign', 'u:before', 'body', 'u:after', 't:after']);
  });

  it('a sync method returns a Promise of its result', async () => {
    const result = app.get(StackedService).syncMethod();
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(42);
  });

  it('wraps controllers and the real class behind useFactory and useValue providers', async () => {
    expect(await app.get(StackedController).get()).toBe('ok');
    expect(await app.get<FactoryMade>('FACTORY_MADE').hello()).toBe('hello');
    expect(await app.get<FactoryMade>('VALUE_MADE').hello()).toBe('hello');
    expect(calls).toEqual([
      'controller:before',
      'controller:after',
      'factory:before',
      'factory:after',
      'factory:before',
      'factory:after',
    ]);
  });

  it('request-scoped providers are wrapped on first call of each instance, sharing the cache', async () => {
    const first = await app.resolve(RequestScoped, ContextIdFactory.create());
    const second = await app.resolve(RequestScoped, ContextIdFactory.create());
    expect(first).not.toBe(second);
    expect(await first.load()).toBe(1);
    expect(await second.load()).toBe(1);
    expect(RequestScoped.loads).toBe(1);
  });

  it('an instance made with `new` throws MethodNotWrappedError naming the class, method and cause', () => {
    const stray = new StackedService();
    let error: unknown;
    try {
      void stray.cacheOutside();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MethodNotWrappedError);
    expect((error as MethodNotWrappedError).code).toBe('E_METHOD_NOT_WRAPPED');
    expect((error as Error).message).toMatch(/StackedService\.cacheOutside\(\) is decorated with @Cacheable, @Trace/);
    expect((error as Error).message).toMatch(/created with `new`|never initialised/);
  });

  it('the aspects belong to each application: a second app in the same process uses its own cache', async () => {
    const otherPrefix = `${prefix}other:`;
    const other = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: otherPrefix }),
      FixtureModule,
    ]);
    try {
      const loadsBefore = app.get(StackedService).loads;
      expect(await other.get(StackedService).cacheOutside()).toBe(1);
      expect(app.get(StackedService).loads).toBe(loadsBefore);
      expect(await observer.exists(`${otherPrefix}cache:{stacked:cache-outside}`)).toBe(1);
      expect(other.get(CacheService)).not.toBe(app.get(CacheService));
    } finally {
      await other.close();
    }
  });
});

describe('Method decorators without an initialised module', () => {
  it('a testing module compiled without init() throws MethodNotWrappedError on call', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix }), FixtureModule],
    })
      .setLogger(silentLogger)
      .compile();
    try {
      expect(() => moduleRef.get(StackedService).cacheOutside()).toThrow(MethodNotWrappedError);
      expect(() => moduleRef.get(StackedService).cacheOutside()).toThrow(/moduleRef\.init\(\)/);
    } finally {
      await moduleRef.close();
    }
  });

  it('a decorator whose aspect is not registered fails startup naming the class and method', async () => {
    const ORPHAN = 'test:orphan';
    const Orphan = createMethodDecorator<Record<string, never>>(ORPHAN, '@Orphan');
    @Injectable()
    class OrphanUser {
      @Orphan({})
      async run(): Promise<void> {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix })],
      providers: [OrphanUser],
    })
      .setLogger(silentLogger)
      .compile();
    try {
      await expect(moduleRef.init()).rejects.toThrow(
        /OrphanUser\.run\(\) is decorated with @Orphan, but no aspect serves "test:orphan"/,
      );
    } finally {
      await moduleRef.close();
    }
  });

  it('invalid decorator options are refused when the class is defined', () => {
    expect(() => {
      class Bad {
        @Cacheable({ ttl: -5 })
        async run(): Promise<void> {}
      }
      return Bad;
    }).toThrow(/@Cacheable\.ttl on Bad\.run\(\)/);
    expect(() => {
      class BadTrace {
        @Trace({ label: '' })
        async run(): Promise<void> {}
      }
      return BadTrace;
    }).toThrow(RedisOptionsError);
  });
});
