/** One link target of a Markdown page, as written, and where. */
export interface MarkdownLink {
  /** 1-based line of the page. */
  line: number;
  /** The target as written (`https://…/docs/caching.md#tags`, `../../docs/caching.md`, `#install`). */
  target: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** `[text](target)` and `![alt](target)`, with an optional `"title"`; the target may be wrapped in `<…>`. */
const INLINE_LINK = /!?\[[^\]]*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
/** `[label]: target` (a reference definition: npm and GitHub resolve it like an inline link). */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
/** `[text][label]` and `[label][]`: a link whose target a reference definition gives. */
const REFERENCE_LINK = /\[([^\]]*)\]\[([^\]]*)\]/g;
const AUTOLINK = /<([a-z][a-z\d+.-]*:[^\s<>]+)>/gi;
const HTML_LINK = /<(?:a|img)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"']+)["']/gi;
const INLINE_CODE = /(`+)[^`]*?\1/g;
const ATX_HEADING = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)\s*$/;

/** Each line of a page, and whether it sits inside a fenced code block (the fences included). */
function scanLines(markdown: string): { text: string; code: boolean }[] {
  let fence: string | undefined;
  return markdown.split('\n').map((text) => {
    const marker = FENCE.exec(text)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return { text, code: true };
    }
    if (marker) fence = marker;
    return { text, code: marker !== undefined };
  });
}

/** A line with its inline code spans turned into spaces: a link written as an example is not a link. */
const withoutInlineCode = (line: string) => line.replace(INLINE_CODE, (span) => ' '.repeat(span.length));

/**
 * Every link target of a Markdown page: inline links and images, reference definitions, autolinks and HTML
 * `href`/`src`, outside code.
 *
 * @param markdown the page's text
 */
export function extractMarkdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  scanLines(markdown).forEach(({ text: line, code }, index) => {
    if (code) return;
    const text = withoutInlineCode(line);
    const add = (target: string) => links.push({ line: index + 1, target: target.replace(/^<(.*)>$/, '$1') });
    const definition = REFERENCE_DEFINITION.exec(text);
    if (definition) add(definition[1]);
    for (const pattern of [INLINE_LINK, AUTOLINK, HTML_LINK]) {
      for (const match of text.matchAll(pattern)) add(match[1]);
    }
  });
  return links;
}

/** A reference label as Markdown matches it: case-insensitive, runs of whitespace as one space. */
const normalizeLabel = (label: string) => label.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The reference links (`[text][label]`, `[label][]`) of a page that no definition resolves: GitHub and npm show
 * those as plain text, so a missing definition drops a link without any error.
 *
 * @param markdown the page's text
 * @returns each unresolved reference, its `target` being the label
 */
export function unresolvedReferenceLinks(markdown: string): MarkdownLink[] {
  const defined = new Set<string>();
  const used: MarkdownLink[] = [];
  scanLines(markdown).forEach(({ text: line, code }, index) => {
    if (code) return;
    const text = withoutInlineCode(line);
    const definition = /^ {0,3}\[([^\]]+)\]:/.exec(text);
    if (definition) defined.add(normalizeLabel(definition[1]));
    for (const [, label, reference] of text.matchAll(REFERENCE_LINK)) {
      used.push({ line: index + 1, target: reference === '' ? label : reference });
    }
  });
  return used.filter((link) => !defined.has(normalizeLabel(link.target)));
}

/**
 * GitHub's anchor for a heading's text (github-slugger's rules): the rendered text lowercased, every character that
 * is not a letter, a digit, a space, `-` or `_` dropped, each space turned into `-`.
 *
 * @param heading the heading's Markdown, without its `#` marks
 */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim();
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * The anchors GitHub gives a page's headings (ATX `## …` and setext), a repeated heading getting `-1`, `-2`, … as
 * GitHub numbers them.
 *
 * @param markdown the page's text
 */
export function githubHeadingAnchors(markdown: string): Set<string> {
  const lines = scanLines(markdown);
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  lines.forEach(({ text, code }, index) => {
    if (code || text.trim() === '') return;
    const next = lines[index + 1];
    const setext = next !== undefined && !next.code && SETEXT_UNDERLINE.test(next.text);
    const heading = ATX_HEADING.exec(text)?.[1] ?? (setext ? text : undefined);
    if (heading === undefined) return;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  });
  return anchors;
}
