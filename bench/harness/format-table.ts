import type { CaseReport, SuiteReport } from './bench-report.interface.js';

interface Column {
  title: string;
  align: 'left' | 'right';
}

const COLUMNS: Column[] = [
  { title: 'group', align: 'left' },
  { title: 'case', align: 'left' },
  { title: 'ops/s', align: 'right' },
  { title: 'p50 ms', align: 'right' },
  { title: 'p99 ms', align: 'right' },
  { title: 'max ms', align: 'right' },
  { title: '× anchor', align: 'right' },
  { title: 'CPU µs/op', align: 'right' },
  { title: '±', align: 'right' },
  { title: 'bench/child/redis', align: 'right' },
  { title: 'cmds/op', align: 'right' },
  { title: 'writes/op', align: 'right' },
];

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Latencies keep three significant decimals below 10 ms, where Redis round trips live. */
function milliseconds(value: number): string {
  return value < 10 ? value.toFixed(3) : value.toFixed(1);
}

function microseconds(value: number): string {
  return value < 100 ? value.toFixed(1) : integer.format(value);
}

/** A fraction as a whole percentage. */
export function percent(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value * 100)} %` : 'n/a';
}

/** Round-to-round spread of a case's ops/s, as a fraction of its best round: how much the machine's noise moved it. */
function spread(c: CaseReport): number {
  const ops = c.rounds.map((r) => r.opsPerSec);
  const best = Math.max(...ops);
  return best > 0 ? (best - Math.min(...ops)) / best : 0;
}

function noiseLine(report: SuiteReport): string[] {
  if (report.plan.rounds < 2 || report.cases.length === 0) return [];
  const spreads = report.cases.map((c) => ({ c, s: spread(c) })).sort((a, b) => a.s - b.s);
  const median = spreads[Math.floor((spreads.length - 1) / 2)].s;
  const worst = spreads[spreads.length - 1];
  return [
    `Round-to-round ops/s spread: median ${percent(median)}, worst ${percent(worst.s)} ` +
      `(${worst.c.group} › ${worst.c.name}); read smaller × anchor differences as noise.`,
  ];
}

function costLines(report: SuiteReport): string[] {
  if (report.metered.length === 0) return [];
  return [
    `CPU µs/op: CPU time per operation of ${report.metered.join(', ')} (bench/child/redis split), cheapest round; ` +
      '± how much more the next-cheapest round cost. cmds/op: commands Redis executed per operation, those run ' +
      "inside scripts included (INFO commandstats); writes/op: this process' socket writes per operation (round trips).",
  ];
}

function headlineLines(report: SuiteReport): string[] {
  if (report.headlines.length === 0) return [];
  return [
    '',
    "Ours vs the best rival, from best rounds (± = both cases' gap to their second-best round; headline: the " +
      'measure with the smaller ±):',
    ...report.headlines.map(
      (h) =>
        `  ${h.group} › ${h.case} vs ${h.rival}: ${h.ratio.toFixed(2)}× by ${h.chosen}` +
        ` (ops/s ${h.throughput.value.toFixed(2)}× ± ${percent(h.throughput.spread)}` +
        (h.cpu ? `, CPU/op ${h.cpu.value.toFixed(2)}× ± ${percent(h.cpu.spread)}` : '') +
        ')' +
        (h.target !== undefined ? `; target ≥ ${h.target}× ${h.met ? 'met' : 'NOT met'}` : ''),
    ),
  ];
}

/**
 * Renders a suite's report as a plain-text table: a header with the environment, one row per case (the anchor
 * marked `*`), and a footer saying how the numbers were obtained and how noisy the rounds were.
 */
export function formatReportTable(report: SuiteReport): string {
  const { environment: env, plan } = report;
  const rows = report.cases.map((c) => [
    c.group,
    c.anchor ? `${c.name} *` : c.name,
    integer.format(c.opsPerSec),
    milliseconds(c.p50Ms),
    milliseconds(c.p99Ms),
    milliseconds(c.maxMs),
    Number.isFinite(c.xAnchor) ? c.xAnchor.toFixed(2) : 'n/a',
    c.cost ? microseconds(c.cost.totalUs) : '',
    c.costSpread !== undefined ? percent(c.costSpread) : '',
    c.cost ? [c.cost.benchUs, c.cost.childrenUs, c.cost.redisUs].map(microseconds).join('/') : '',
    c.cost ? c.cost.redisCommands.toFixed(2) : '',
    c.cost ? c.cost.socketWrites.toFixed(2) : '',
  ]);
  const widths = COLUMNS.map((column, i) => Math.max(column.title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (COLUMNS[i].align === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();

  return [
    `${report.suite}: ${report.description}`,
    `Node ${env.node} · Redis ${env.redis} · ${env.platform}, ${env.cpus} CPUs, load ${env.loadAverage} · ${env.date}`,
    '',
    line(COLUMNS.map((c) => c.title)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    "* anchor of its group; × anchor = ops/s ÷ the anchor's ops/s, both from this run.",
    `Each case ran ${plan.rounds} ${plan.rounds === 1 ? 'round' : 'rounds'} of ${plan.durationMs} ms, each after ` +
      `a ${plan.warmupMs} ms warm-up; within a round a group's cases run back to back, order alternating (A B, B A).`,
    "Each row keeps its best round (highest ops/s, with that round's latencies); every round is in the JSON.",
    ...costLines(report),
    ...noiseLine(report),
    ...headlineLines(report),
    ...(report.notes.length > 0 ? ['', ...report.notes] : []),
  ].join('\n');
}
