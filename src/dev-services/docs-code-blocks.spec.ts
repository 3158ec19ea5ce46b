import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  extractTypeScriptBlocks,
  typeCheckBlocks,
  type DocsCodeBlock,
  type DocsCodeBlockError,
} from './docs-code-blocks.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The pages whose TypeScript blocks must compile against the library as it is. */
const pages = [
  'README.md',
  'libs/redis/README.md',
  ...readdirSync(new URL('../../docs/', import.meta.url))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('TypeScript blocks of the docs compile against the library', () => {
  const blocks = new Map<string, DocsCodeBlock[]>(
    pages.map((page) => [page, extractTypeScriptBlocks(page, readFileSync(`${root}${page}`, 'utf8'))]),
  );
  let errors: DocsCodeBlockError[] = [];

  beforeAll(() => {
    errors = typeCheckBlocks(root, [...blocks.values()].flat(), `${root}.cache/docs-code-blocks`);
  }, 120_000);

  it('finds blocks in the package README and in every capability page', () => {
    for (const page of ['libs/redis/README.md', 'docs/caching.md', 'docs/locks.md', 'docs/transport.md']) {
      expect(blocks.get(page)?.length ?? 0).toBeGreaterThan(0);
    }
  });

  it.each(pages)('%s', (page) => {
    const found = errors
      .filter((error) => error.block.file === page)
      .map(
        (error) =>
          `${page}:${error.line} (block ${error.block.index}, fence on line ${error.block.line}): ${error.message}`,
      );
    expect(found).toEqual([]);
  });
});

describe('the block extractor', () => {
  it('numbers every ts block, skips those marked fragment, and keeps the fence line', () => {
    const page = [
      '# Page',
      '```ts',
      'const a = 1;',
      '```',
      '```sh',
      'npm test',
      '```',
      '```ts fragment',
      'x',
      '```',
      '```typescript',
      'const b = 2;',
      '```',
    ].join('\n');
    expect(extractTypeScriptBlocks('page.md', page)).toEqual([
      { file: 'page.md', index: 1, line: 2, code: 'const a = 1;' },
      { file: 'page.md', index: 3, line: 11, code: 'const b = 2;' },
    ]);
  });

  it('locates a type error on its line of the page', () => {
    const errors = typeCheckBlocks(
      root,
      [
        {
          file: 'virtual.md',
          index: 1,
          line: 10,
          code: "import { RedisModule } from '@localcloudlab/nest-redis';\nconst n: number = 'x';",
        },
      ],
      `${root}.cache/docs-code-blocks-self-test`,
    );
    expect(errors.map((e) => [e.line, e.message.slice(0, 7)])).toEqual([[12, 'TS2322:']]);
  }, 120_000);
});
