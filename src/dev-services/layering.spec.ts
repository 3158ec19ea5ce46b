import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULE = 'redis-layers/no-upward-import';

/** The messages of the layer rule when `code` is linted as if it were the file at `filePath`, with the real config. */
async function layerMessages(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result.messages.filter((message) => message.ruleId === RULE).map((message) => message.message);
}

describe('the layer rule of libs/redis/src (eslint.config.js)', () => {
  it('fails a lower layer that imports a higher one, naming both layers', async () => {
    const messages = await layerMessages(
      'libs/redis/src/connection/layering-probe.ts',
      "import { fail } from '../options/option-checks.js';\nexport const probe = fail;\n",
    );
    expect(messages).toEqual([
      expect.stringContaining('Layer rule: "connection" (layer core) must not import "options"'),
    ]);
    expect(messages[0]).toContain('(layer options, higher)');
  }, 60_000);

  it('fails an import of the module layer from a nested folder of a feature', async () => {
    const messages = await layerMessages(
      'libs/redis/src/transport/streams/layering-probe.ts',
      "export { RedisModule } from '../../redis.module.js';\n",
    );
    expect(messages).toEqual([
      expect.stringContaining('"transport" (layer features) must not import "redis.module.ts"'),
    ]);
  }, 60_000);

  it('fails a feature that imports another feature', async () => {
    const messages = await layerMessages(
      'libs/redis/src/lock/layering-probe.ts',
      "import type { CacheModuleOptions } from '../cache/cache-options.interface.js';\nexport type Probe = CacheModuleOptions;\n",
    );
    expect(messages).toEqual([
      expect.stringContaining('"lock" and "cache" are separate members of the isolated layer'),
    ]);
  }, 60_000);

  it('fails a folder that has no declared layer', async () => {
    const messages = await layerMessages('libs/redis/src/undeclared-feature/probe.ts', 'export const probe = 1;\n');
    expect(messages).toEqual([expect.stringContaining('"undeclared-feature" has no layer')]);
  }, 60_000);

  it('lets a feature import its own folder and the layers below it', async () => {
    const messages = await layerMessages(
      'libs/redis/src/cache/layering-probe.ts',
      [
        "import type { CacheModuleOptions } from './cache-options.interface.js';",
        "import { optionKeys } from '../utils/option-keys.js';",
        "import type { RedisClient } from '../connection/redis-connection.factory.js';",
        "import { fail } from '../options/option-checks.js';",
        'export type Probe = [CacheModuleOptions, RedisClient, typeof optionKeys, typeof fail];',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  }, 60_000);

  it('finds no layer violation in the library as it is', async () => {
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(['libs/redis/src']);
    const violations = results.flatMap((result) =>
      result.messages
        .filter((message) => message.ruleId === RULE)
        .map((message) => `${result.filePath}:${message.line} ${message.message}`),
    );
    expect(results.length).toBeGreaterThan(100);
    expect(violations).toEqual([]);
  }, 180_000);
});
