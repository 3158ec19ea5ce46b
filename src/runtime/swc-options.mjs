/**
 * The one SWC configuration shared by Jest (@swc/jest) and the runtime loader, so tests, child processes and
 * benchmarks compile TypeScript the same way: ES modules out, legacy decorators with emitted metadata (Nest's
 * dependency injection reads `design:paramtypes`).
 */
export const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};
