import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments, parse } from 'yaml';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));

interface Deployment {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: Array<{ ports: Array<{ name?: string; containerPort: number }> }> };
    };
  };
}

interface PodMonitor {
  kind: string;
  metadata: { namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    jobLabel: string;
    podMetricsEndpoints: Array<{ port: string; path: string }>;
  };
}

const deployments = ['booking-api.yaml', 'booking-worker.yaml'].map(
  (file) => parseAllDocuments(readFileSync(`${DEPLOY}k8s/${file}`, 'utf8'))[0]!.toJS() as Deployment,
);
const podMonitor = parse(readFileSync(`${DEPLOY}k8s/monitoring/pod-monitor.yaml`, 'utf8')) as PodMonitor;
const scrapeConfig = parse(readFileSync(`${DEPLOY}prometheus/prometheus.yml`, 'utf8')) as {
  rule_files: string[];
  scrape_configs: Array<{
    job_name: string;
    kubernetes_sd_configs?: Array<{ role: string; namespaces: { names: string[] } }>;
    relabel_configs?: Array<{
      source_labels: string[];
      target_label?: string;
      regex?: string;
      replacement?: string;
      action?: string;
    }>;
  }>;
};

/**
 * How Prometheus finds the demo's pods (deploy/k8s/monitoring/pod-monitor.yaml for the operator,
 * deploy/prometheus/prometheus.yml without it) checked against the Deployments: same pods, same port, same path.
 */
describe('deploy/k8s monitoring: the scrape configuration matches the pods', () => {
  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    'the PodMonitor selects %s and scrapes its management port at the annotated path',
    (_, deployment) => {
      const { labels, annotations } = deployment.spec.template.metadata;
      expect(podMonitor.metadata.namespace).toBe(deployment.metadata.namespace);
      for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) expect(labels[key]).toBe(value);
      expect(labels[podMonitor.spec.jobLabel]).toBe(deployment.metadata.name);
      const [endpoint] = podMonitor.spec.podMetricsEndpoints;
      const port = deployment.spec.template.spec.containers[0]!.ports.find((p) => p.name === endpoint!.port);
      expect(port).toBeDefined();
      expect(annotations?.['prometheus.io/scrape']).toBe('true');
      expect(annotations?.['prometheus.io/port']).toBe(String(port!.containerPort));
      expect(annotations?.['prometheus.io/path']).toBe(endpoint!.path);
    },
  );

  it('the annotation-based scrape config keeps annotated pods of the namespace, on their annotated port and path', () => {
    const pods = scrapeConfig.scrape_configs.find((c) => c.kubernetes_sd_configs)!;
    expect(pods.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['booking'] } }]);
    const relabel = pods.relabel_configs!;
    const bySource = (label: string) => relabel.find((r) => r.source_labels.includes(label));
    expect(bySource('__meta_kubernetes_pod_annotation_prometheus_io_scrape')).toMatchObject({
      regex: 'true',
      action: 'keep',
    });
    expect(bySource('__meta_kubernetes_pod_annotation_prometheus_io_path')?.target_label).toBe('__metrics_path__');
    expect(bySource('__meta_kubernetes_pod_annotation_prometheus_io_port')?.target_label).toBe('__address__');
    // job = app.kubernetes.io/name: what the dashboard's $job variable and the alerts' `job` label show.
    expect(bySource('__meta_kubernetes_pod_label_app_kubernetes_io_name')?.target_label).toBe('job');
    expect(scrapeConfig.rule_files).toEqual(['nest-redis-alerts.yml']);
  });

  it('rewrites a pod address to its annotated port, as the relabelling regex is written', () => {
    const pods = scrapeConfig.scrape_configs.find((c) => c.kubernetes_sd_configs)!;
    const rule = pods.relabel_configs!.find((r) => r.target_label === '__address__')!;
    // Prometheus joins the source labels with ';' and anchors the regex.
    const rewrite = (address: string, port: string) =>
      `${address};${port}`.replace(new RegExp(`^(?:${rule.regex!})$`), rule.replacement!.replace(/\$(\d)/g, '$$$1'));
    expect(rewrite('10.1.2.3:3000', '9000')).toBe('10.1.2.3:9000');
    expect(rewrite('10.1.2.3', '9001')).toBe('10.1.2.3:9001');
  });
});
