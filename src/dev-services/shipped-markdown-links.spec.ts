import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  extractMarkdownLinks,
  githubHeadingAnchors,
  githubSlug,
  unresolvedReferenceLinks,
  type MarkdownLink,
} from './markdown-links.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE_DIR = 'libs/redis';
/** The branch the published links point at: releases are cut from it, so its docs describe the latest release. */
const BRANCH = 'main';

interface PackageLinks {
  repository?: { type?: string; url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  files?: string[];
}

const manifest = JSON.parse(readFileSync(join(root, PACKAGE_DIR, 'package.json'), 'utf8')) as PackageLinks;
/** The repository's address on the web, read from the one place it is written: package.json's `repository.url`. */
const repositoryUrl = /^git\+(https:\/\/github\.com\/[\w.-]+\/[\w.-]+?)\.git$/.exec(
  manifest.repository?.url ?? '',
)?.[1];
const blobPrefix = `${repositoryUrl}/blob/${BRANCH}/`;
const treePrefix = `${repositoryUrl}/tree/${BRANCH}/`;

/** The Markdown files npm packs: the README (always packed, and the page npm shows) and `files` entries ending in .md. */
const shippedPages = [...new Set(['README.md', ...(manifest.files ?? []).filter((file) => file.endsWith('.md'))])].map(
  (file) => `${PACKAGE_DIR}/${file}`,
);

const read = (path: string) => readFileSync(join(root, path), 'utf8');
const linksOf = (page: string) => extractMarkdownLinks(read(page));
const where = (page: string, link: MarkdownLink) => `${page}:${link.line} ${link.target}`;

/**
 * Why a link into this repository would be broken on GitHub, or undefined if it is not: it must name the release
 * branch, a path of this checkout and, with an anchor, a heading of that page.
 */
function brokenLinkReason(page: string, target: string): string | undefined {
  const [address, anchor] = target.split('#', 2) as [string, string | undefined];
  if (address === '') {
    return anchor && !githubHeadingAnchors(read(page)).has(anchor) ? `no heading #${anchor} in ${page}` : undefined;
  }
  const prefix = [blobPrefix, treePrefix].find((candidate) => address.startsWith(candidate));
  if (!prefix) {
    return /\/(blob|tree)\//.test(address) ? `not on the ${BRANCH} branch (${blobPrefix}…)` : undefined;
  }
  const path = decodeURIComponent(address.slice(prefix.length)).replace(/\/$/, '');
  if (!existsSync(join(root, path))) return `${path} does not exist in this checkout`;
  const isDirectory = statSync(join(root, path)).isDirectory();
  if (prefix === blobPrefix && isDirectory) return `${path} is a folder: link it with /tree/`;
  if (!anchor) return undefined;
  // A folder's anchors are those of the README GitHub shows under it (#readme names the README itself).
  const anchored = isDirectory ? `${path}/README.md` : path;
  if (!anchored.endsWith('.md') || !existsSync(join(root, anchored))) return `#${anchor} on a page without headings`;
  const anchors = githubHeadingAnchors(read(anchored));
  if (isDirectory) anchors.add('readme');
  return anchors.has(anchor) ? undefined : `no heading #${anchor} in ${anchored}`;
}

describe('links of the Markdown files npm shows for the package', () => {
  it('package.json names the GitHub repository and package folder, the README as homepage and the issue tracker', () => {
    expect(repositoryUrl).toBeDefined();
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${repositoryUrl}.git`, directory: PACKAGE_DIR });
    expect(manifest.homepage).toBe(`${treePrefix}${PACKAGE_DIR}#readme`);
    expect(manifest.bugs).toEqual({ url: `${repositoryUrl}/issues` });
  });

  it('checks the README and the CHANGELOG, and finds the README links to the docs', () => {
    expect(shippedPages).toEqual(expect.arrayContaining([`${PACKAGE_DIR}/README.md`, `${PACKAGE_DIR}/CHANGELOG.md`]));
    const intoRepository = linksOf(`${PACKAGE_DIR}/README.md`).filter((link) => link.target.startsWith(blobPrefix));
    expect(intoRepository.length).toBeGreaterThan(10);
  });

  it.each(shippedPages)('%s: every link is absolute (npm resolves no relative link)', (page) => {
    const relative = linksOf(page).filter(
      (link) => !/^[a-z][a-z\d+.-]*:/i.test(link.target) && !link.target.startsWith('#'),
    );
    expect(relative.map((link) => where(page, link))).toEqual([]);
  });

  it.each(shippedPages)('%s: every reference link has its definition (else it shows as plain text)', (page) => {
    expect(unresolvedReferenceLinks(read(page)).map((link) => where(page, link))).toEqual([]);
  });

  it.each(shippedPages)(
    '%s: every link into the repository names a file on the release branch and, with an anchor, one of its headings',
    (page) => {
      const broken = linksOf(page)
        .filter((link) => link.target.startsWith('#') || link.target.startsWith(`${repositoryUrl}/`))
        .flatMap((link) => {
          const reason = brokenLinkReason(page, link.target);
          return reason ? [`${where(page, link)}: ${reason}`] : [];
        });
      expect(broken).toEqual([]);
    },
  );
});

describe('the Markdown link reader', () => {
  it('finds inline links, images, titles, reference definitions, autolinks and HTML links, outside code', () => {
    const page = [
      'See [caching](https://example.com/caching.md#tags "Caching") and ![logo](<img/logo 1.png>).',
      'Use `[not](a-link.md)` in code, or <https://example.com/auto>.',
      '```md',
      '[not a link either](inside-a-fence.md)',
      '```',
      '[docs/locks.md]: ../../docs/locks.md',
      '<a href="relative.md">html</a>',
    ].join('\n');
    expect(extractMarkdownLinks(page)).toEqual([
      { line: 1, target: 'https://example.com/caching.md#tags' },
      { line: 1, target: 'img/logo 1.png' },
      { line: 2, target: 'https://example.com/auto' },
      { line: 6, target: '../../docs/locks.md' },
      { line: 7, target: 'relative.md' },
    ]);
  });

  it('finds reference links without a definition, matching labels as Markdown does', () => {
    const page = [
      'See [Caching][docs/caching.md], [Locks][Docs/Locks.md], [docs/transport.md][] and [Gone][docs/gone.md].',
      '`[in code][nowhere]`',
      '',
      '[docs/caching.md]: https://example.com/caching.md',
      '[docs/locks.md]: https://example.com/locks.md',
      '[docs/transport.md]: https://example.com/transport.md',
    ].join('\n');
    expect(unresolvedReferenceLinks(page)).toEqual([{ line: 1, target: 'docs/gone.md' }]);
  });

  it("slugs headings as GitHub does: lowercase, spaces to '-', punctuation other than - and _ dropped", () => {
    expect(githubSlug('Nest 11')).toBe('nest-11');
    expect(githubSlug('`LeaderService`')).toBe('leaderservice');
    expect(githubSlug('Every behaviour that differs, on purpose')).toBe('every-behaviour-that-differs-on-purpose');
    expect(githubSlug('Jest on Node < 24.9 (CommonJS)')).toBe('jest-on-node--249-commonjs');
    expect(githubSlug('snake_case & kebab-case')).toBe('snake_case--kebab-case');
    expect(githubSlug('[Linked](other.md) heading')).toBe('linked-heading');
    expect(githubSlug('Überblick')).toBe('überblick');
  });

  it('numbers repeated headings, reads setext headings and closing #s, and skips fenced code', () => {
    const page = [
      '# Title #',
      '## Options',
      '```sh',
      '# not a heading',
      '```',
      '## Options',
      'Setext heading',
      '---',
    ].join('\n');
    expect([...githubHeadingAnchors(page)]).toEqual(['title', 'options', 'options-1', 'setext-heading']);
  });
});
