import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One ```ts block of a Markdown page. */
export interface DocsCodeBlock {
  /** Page, relative to the repository root (`docs/caching.md`). */
  file: string;
  /** 1-based number of the block among the page's TypeScript blocks. */
  index: number;
  /** 1-based line of the block's opening fence. */
  line: number;
  code: string;
}

/** A compiler error inside a block, located in the Markdown page. */
export interface DocsCodeBlockError {
  block: DocsCodeBlock;
  /** Line in the Markdown page. */
  line: number;
  message: string;
}

const FENCE = /^```(ts|typescript)\b(.*)$/;
/** A block meant as a piece of a larger program (a method without its class): not compiled. Keep them rare. */
const FRAGMENT_MARK = /\bfragment\b/;

/**
 * The TypeScript blocks of a Markdown page, without those marked `fragment` on their fence (```ts fragment).
 *
 * @param file page, relative to the repository root (used to name the blocks)
 * @param markdown the page's text
 */
export function extractTypeScriptBlocks(file: string, markdown: string): DocsCodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocsCodeBlock[] = [];
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    index++;
    if (FRAGMENT_MARK.test(fence[2])) continue;
    blocks.push({ file, index, line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

/**
 * Type-checks every block as its own ES module, in one program, against the library's sources: the package names
 * (`@localcloudlab/nest-redis`, its entry points, and this repository's `@app/redis` alias) are mapped to
 * `libs/redis/src`, every other import resolves from the repository's node_modules, with the compiler options of
 * the root tsconfig.
 *
 * @param root repository root
 * @param blocks blocks to check
 * @param workDir where the blocks are written as `.ts` files (emptied first; must sit inside `root`)
 * @returns the errors, each located in its page
 */
export function typeCheckBlocks(root: string, blocks: DocsCodeBlock[], workDir: string): DocsCodeBlockError[] {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const byFile = new Map<string, DocsCodeBlock>();
  for (const block of blocks) {
    const name = join(workDir, `${block.file.replace(/[^A-Za-z0-9]+/g, '_')}_${block.index}.ts`);
    // `export {}` makes every block a module, so top-level names of different blocks never collide.
    writeFileSync(name, `${block.code}\nexport {};\n`);
    byFile.set(name, block);
  }

  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const lib = relative(root, join(root, 'libs/redis/src'));
  options.paths = {
    '@localcloudlab/nest-redis': [`./${lib}/index.ts`],
    '@localcloudlab/nest-redis/*': [`./${lib}/*/index.ts`],
    '@app/redis': [`./${lib}/index.ts`],
    '@app/redis/*': [`./${lib}/*/index.ts`],
  };
  options.noEmit = true;
  options.rootDir = root;

  const program = ts.createProgram([...byFile.keys()], options);
  const errors: DocsCodeBlockError[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file ? byFile.get(diagnostic.file.fileName) : undefined;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!block || !diagnostic.file || diagnostic.start === undefined) {
      // An error outside the blocks (a library source, the config) is reported against every block, not dropped.
      errors.push(...blocks.map((b) => ({ block: b, line: b.line, message: `TS${diagnostic.code}: ${message}` })));
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    errors.push({ block, line: block.line + 1 + line, message: `TS${diagnostic.code}: ${message}` });
  }
  return errors;
}
