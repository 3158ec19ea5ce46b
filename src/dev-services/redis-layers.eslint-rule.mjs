import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layers of `libs/redis/src`, lowest first. A file may import from its own layer and the layers below it, never
 * from a layer above. In an `isolated` layer the members do not import each other either: a feature reaches another
 * feature only through a lower layer. `docs/architecture.md` explains each layer; keep the two in step.
 *
 * A member is a folder directly under `libs/redis/src` or a file at its root. A new folder must be added here before
 * its files lint (so every feature gets a declared place).
 */
export const REDIS_LAYERS = [
  { name: 'base', members: ['errors', 'instrumentation'] },
  { name: 'utils', members: ['utils'] },
  { name: 'core', members: ['connection', 'keyspace', 'redis.constants.ts', 'redis.messages.ts'] },
  { name: 'options', members: ['options'] },
  { name: 'method-decorators', members: ['method-decorators'] },
  {
    name: 'features',
    isolated: true,
    members: ['cache', 'lock', 'transport', 'rate-limit'],
  },
  // Built on the locks (a lease, a tick's lock, a permit held by a lock handle): above the features, never below.
  { name: 'coordination', isolated: true, members: ['schedule', 'leader', 'semaphore'] },
  { name: 'observability', isolated: true, members: ['health', 'metrics', 'tracing'] },
  {
    name: 'module',
    members: ['module-options', 'redis.module.ts', 'redis.module-definition.ts', 'index.ts'],
  },
];

/** `libs/redis/src`, found from this file so the rule works whatever directory ESLint runs in. */
const SOURCE_ROOT = fileURLToPath(new URL('../../libs/redis/src/', import.meta.url));

/** The layer member (top folder or root file) a path under `libs/redis/src` belongs to, or undefined outside it. */
function memberOf(file) {
  const relative = path.relative(SOURCE_ROOT, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const [first] = relative.split(path.sep);
  // An import specifier names the compiled `.js`; the layer table names the source file.
  return first.replace(/\.js$/, '.ts');
}

function layerOf(member) {
  const rank = REDIS_LAYERS.findIndex((layer) => layer.members.includes(member));
  return rank === -1 ? undefined : { rank, ...REDIS_LAYERS[rank] };
}

/** `redis-layers/no-upward-import`: lower layers of libs/redis/src never import higher ones. */
export const noUpwardImport = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep the layers of libs/redis/src: no import from a higher layer or a sibling feature' },
    schema: [],
    messages: {
      upward:
        'Layer rule: "{{from}}" (layer {{fromLayer}}) must not import "{{to}}" (layer {{toLayer}}, higher). ' +
        'Move the shared piece down a layer; see docs/architecture.md.',
      sibling:
        'Layer rule: "{{from}}" and "{{to}}" are separate members of the isolated layer {{fromLayer}} and must not ' +
        'import each other. Move the shared piece down a layer; see docs/architecture.md.',
      undeclared:
        'Layer rule: "{{member}}" has no layer. Add it to REDIS_LAYERS in src/dev-services/redis-layers.eslint-rule.mjs ' +
        'and to docs/architecture.md.',
    },
  },
  create(context) {
    const from = memberOf(context.filename);
    if (from === undefined) return {};
    const fromLayer = layerOf(from);

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const to = memberOf(path.resolve(path.dirname(context.filename), specifier));
      if (to === undefined || to === from) return;
      const toLayer = layerOf(to);
      if (!toLayer) return context.report({ node, messageId: 'undeclared', data: { member: to } });
      const data = { from, to, fromLayer: fromLayer.name, toLayer: toLayer.name };
      if (toLayer.rank > fromLayer.rank) context.report({ node, messageId: 'upward', data });
      else if (toLayer.rank === fromLayer.rank && fromLayer.isolated) {
        context.report({ node, messageId: 'sibling', data });
      }
    }

    return {
      Program(node) {
        if (!fromLayer) context.report({ node, messageId: 'undeclared', data: { member: from } });
      },
      ImportDeclaration: (node) => fromLayer && check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => fromLayer && node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => fromLayer && check(node.source, node.source.value),
      ImportExpression: (node) => fromLayer && node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

/** The local plugin that carries the rule, for `eslint.config.js`. */
export const redisLayersPlugin = { rules: { 'no-upward-import': noUpwardImport } };
