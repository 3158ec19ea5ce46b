import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { parseAllDocuments } from 'yaml';
import { HealthController as ApiHealthController } from '../src/health/health.controller.js';
import { HealthController as WorkerHealthController } from '../../booking-worker/src/health/health.controller.js';

const K8S_DIR = fileURLToPath(new URL('../../../deploy/k8s/', import.meta.url));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

interface Probe {
  httpGet: { path: string; port: string | number };
}

interface Container {
  name: string;
  ports: Array<{ name?: string; containerPort: number }>;
  env: Array<{
    name: string;
    value?: string;
    valueFrom?: {
      configMapKeyRef?: { name: string; key: string };
      secretKeyRef?: { name: string; key: string };
    };
  }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

const manifests: Manifest[] = readdirSync(K8S_DIR)
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(K8S_DIR + file, 'utf8')).map((doc) => doc.toJS() as Manifest));

function find(kind: string, name: string): Manifest {
  const manifest = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!manifest) throw new Error(`No ${kind} ${name} in deploy/k8s`);
  return manifest;
}

function containerOf(deployment: Manifest): Container {
  const spec = deployment.spec as { template: { spec: { containers: Container[] } } };
  return spec.template.spec.containers[0]!;
}

/** Every GET route a controller serves, as Nest maps them (`@Controller` path + each `@Get` path). */
function routesOf(controller: abstract new (...args: never[]) => unknown): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller)).replace(/^\/|\/$/g, '');
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype).flatMap((method) => {
    const paths = Reflect.getMetadata(PATH_METADATA, prototype[method] as object) as string | string[] | undefined;
    if (paths === undefined) return [];
    return [paths].flat().map((path) => `/${[base, path].filter(Boolean).join('/')}`);
  });
}

/** The container port a probe targets (by name or number). */
function probePort(container: Container, probe: Probe): number {
  const { port } = probe.httpGet;
  if (typeof port === 'number') return port;
  const named = container.ports.find((p) => p.name === port);
  if (!named) throw new Error(`Probe port "${port}" is not a named port of ${container.name}`);
  return named.containerPort;
}

function envValue(container: Container, name: string): string | undefined {
  return container.env.find((e) => e.name === name)?.value;
}

describe('deploy/k8s manifests', () => {
  it('parse, and kustomization.yaml lists every manifest file', () => {
    const kustomization = parseAllDocuments(readFileSync(K8S_DIR + 'kustomization.yaml', 'utf8'))[0]!.toJS() as {
      resources: string[];
    };
    const files = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(manifests.every((m) => m.apiVersion && m.kind && m.metadata.name)).toBe(true);
  });

  describe.each([
    {
      app: 'booking-api',
      replicas: 3,
      portVariable: 'PORT',
      managementVariable: 'MANAGEMENT_PORT',
      controller: ApiHealthController,
    },
    {
      app: 'booking-worker',
      replicas: 2,
      portVariable: 'WORKER_PORT',
      managementVariable: 'WORKER_MANAGEMENT_PORT',
      controller: WorkerHealthController,
    },
  ])('$app Deployment', ({ app, replicas, portVariable, managementVariable, controller }) => {
    const deployment = find('Deployment', app);
    const container = containerOf(deployment);
    const routes = routesOf(controller);

    it(`runs ${replicas} replica(s) in namespace booking`, () => {
      expect(deployment.metadata.namespace).toBe('booking');
      expect((deployment.spec as { replicas: number }).replicas).toBe(replicas);
    });

    it('probes liveness on /health/live and readiness on /health/ready, routes the app serves', () => {
      expect(container.livenessProbe?.httpGet.path).toBe('/health/live');
      expect(container.readinessProbe?.httpGet.path).toBe('/health/ready');
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        if (probe) expect(routes).toContain(probe.httpGet.path);
      }
    });

    it(`probes the port the app listens on (${portVariable})`, () => {
      const listens = Number(envValue(container, portVariable));
      expect(listens).toBeGreaterThan(0);
      for (const probe of [container.livenessProbe!, container.readinessProbe!]) {
        expect(probePort(container, probe)).toBe(listens);
      }
    });

    it(`has Prometheus scrape /metrics on the management port (${managementVariable}), not the public one`, () => {
      const management = Number(envValue(container, managementVariable));
      expect(container.ports).toEqual([
        { name: 'http', containerPort: Number(envValue(container, portVariable)) },
        { name: 'management', containerPort: management },
      ]);
      const template = (deployment.spec as { template: { metadata: { annotations?: Record<string, string> } } })
        .template;
      expect(template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(management),
        'prometheus.io/path': '/metrics',
      });
    });

    it('reads Redis from the ConfigMap (the Bitnami release in namespace caching) and its password from a Secret', () => {
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.valueFrom]));
      expect(env.REDIS_URL).toEqual({ configMapKeyRef: { name: 'booking-config', key: 'REDIS_URL' } });
      expect(env.REDIS_KEY_PREFIX).toEqual({ configMapKeyRef: { name: 'booking-config', key: 'REDIS_KEY_PREFIX' } });
      expect(env.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'redis', key: 'redis-password' } });

      const config = find('ConfigMap', 'booking-config') as Manifest & { data: Record<string, string> };
      const redisUrl = new URL(config.data.REDIS_URL!);
      expect(redisUrl.hostname).toBe('redis-master.caching.svc.cluster.local');
      expect(redisUrl.port).toBe('6379');
      expect(redisUrl.password).toBe('');
      const secret = find('Secret', 'redis') as Manifest & { stringData: Record<string, string> };
      expect(Object.keys(secret.stringData)).toEqual(['redis-password']);
    });

    it('references only ConfigMap keys and Secrets that the manifests define', () => {
      for (const { valueFrom } of container.env) {
        const ref = valueFrom?.configMapKeyRef ?? valueFrom?.secretKeyRef;
        if (!ref) continue;
        const source = find(valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name) as Manifest & {
          data?: Record<string, string>;
          stringData?: Record<string, string>;
        };
        expect(Object.keys(source.data ?? source.stringData ?? {})).toContain(ref.key);
      }
    });
  });

  it('exposes booking-api through a Service on its named http port', () => {
    const service = find('Service', 'booking-api') as Manifest & {
      spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    };
    const deployment = find('Deployment', 'booking-api') as Manifest & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
  });

  it('lets only the monitoring namespace reach the management ports (NetworkPolicy)', () => {
    const policy = find('NetworkPolicy', 'booking-ports') as Manifest & {
      spec: { podSelector: { matchLabels: Record<string, string> }; ingress: unknown[] };
    };
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/part-of': 'booking-demo' });
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: 'http' }] },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 'management' }],
      },
    ]);
  });

  it('gives booking-worker its NOTIFICATIONS_TOKEN from a Secret', () => {
    const env = containerOf(find('Deployment', 'booking-worker')).env.find((e) => e.name === 'NOTIFICATIONS_TOKEN');
    expect(env?.valueFrom).toEqual({ secretKeyRef: { name: 'booking-worker', key: 'notifications-token' } });
  });
});
