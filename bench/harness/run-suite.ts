import type {
  CaseReport,
  Headline,
  MeasurementPlan,
  OperationCost,
  RoundMeasurement,
  Spread,
} from './bench-report.interface.js';
import type { BenchCase } from './bench-suite.interface.js';
import type { CostMeter } from './cost-meter.js';
import { runWorkload } from './run-workload.js';

/**
 * Measures every case `plan.rounds` times and keeps each case's best round (highest ops/s).
 *
 * Fairness: a round runs every group, and the cases of a group run back to back (so they share the machine's
 * state of the moment) in declaration order on even rounds and reversed on odd ones (A B, then B A), so neither
 * side always goes first. Rounds are spread over the whole run, so a burst of load elsewhere hits one round of a
 * case rather than all of them. Best-of rather than mean because on a shared machine noise only slows a round
 * down, never speeds it up; likewise the cost per operation (when a `meter` is given) keeps its cheapest round.
 *
 * @param onRound called after each round, for progress output
 * @throws Error when a group has no anchor or several
 */
export async function runSuiteCases(
  cases: BenchCase[],
  plan: MeasurementPlan,
  onRound: (benchCase: BenchCase, round: number, measurement: RoundMeasurement) => void = () => undefined,
  meter?: CostMeter,
): Promise<CaseReport[]> {
  const groups = groupCases(cases);
  const rounds = new Map<BenchCase, RoundMeasurement[]>(cases.map((c) => [c, []]));

  for (let round = 0; round < plan.rounds; round++) {
    for (const members of groups.values()) {
      const order = round % 2 === 0 ? members : [...members].reverse();
      for (const benchCase of order) {
        const measurement = await runWorkload((i) => benchCase.run(i), {
          concurrency: benchCase.concurrency ?? 1,
          warmupMs: plan.warmupMs,
          durationMs: plan.durationMs,
          meter,
        });
        rounds.get(benchCase)?.push(measurement);
        onRound(benchCase, round, measurement);
      }
    }
  }

  const kept = new Map(cases.map((c) => [c, best(rounds.get(c) ?? [])]));
  return cases.map((benchCase) => {
    const measurement = kept.get(benchCase) as RoundMeasurement;
    const anchor = groups.get(benchCase.group)?.find((c) => c.anchor) as BenchCase;
    const anchorOps = kept.get(anchor)?.opsPerSec ?? 0;
    const all = rounds.get(benchCase) ?? [];
    const { cost: _bestRoundCost, ...bestRound } = measurement;
    const costs = all
      .flatMap((r) => (r.cost && r.operations > 0 ? [r.cost] : []))
      .sort((a, b) => a.totalUs - b.totalUs);
    const ops = all.map((r) => r.opsPerSec).sort((a, b) => b - a);
    return {
      group: benchCase.group,
      name: benchCase.name,
      anchor: benchCase.anchor === true,
      ours: benchCase.ours === true,
      ...(benchCase.target !== undefined && { target: benchCase.target }),
      concurrency: benchCase.concurrency ?? 1,
      ...bestRound,
      xAnchor: anchorOps > 0 ? measurement.opsPerSec / anchorOps : Number.NaN,
      opsSpread: ops.length > 1 && ops[0] > 0 ? (ops[0] - ops[1]) / ops[0] : 0,
      rounds: all,
      ...(costs.length > 0 && {
        cost: costs[0],
        costSpread:
          costs.length > 1 && costs[0].totalUs > 0 ? (costs[1].totalUs - costs[0].totalUs) / costs[0].totalUs : 0,
      }),
    };
  });
}

/**
 * Each subject case of each group against the best rival of its group. Subjects are the cases marked `ours` (their
 * rivals: every unmarked case), or, in a group with none marked, every non-anchor case (its rival: the anchor).
 * Ratios come from best rounds; the headline measure is the one whose ratio could move least (see `Spread`).
 */
export function headlines(cases: CaseReport[]): Headline[] {
  const groups = new Map<string, CaseReport[]>();
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const result: Headline[] = [];
  for (const [group, members] of groups) {
    const marked = members.some((c) => c.ours);
    const subjects = members.filter((c) => (marked ? c.ours : !c.anchor));
    const rivals = members.filter((c) => (marked ? !c.ours : c.anchor));
    if (rivals.length === 0) continue;
    for (const subject of subjects) {
      // The best rival is the one we compare worst with.
      const worst = (ratios: Array<{ rival: CaseReport; s: Spread }>) =>
        ratios.reduce((a, b) => (b.s.value < a.s.value ? b : a));
      const byOps = worst(
        rivals.map((rival) => ({
          rival,
          s: {
            value: rival.opsPerSec > 0 ? subject.opsPerSec / rival.opsPerSec : Number.NaN,
            spread: subject.opsSpread + rival.opsSpread,
          },
        })),
      );
      const subjectCost = subject.cost;
      const byCpu =
        subjectCost && subjectCost.totalUs > 0 && rivals.every((rival) => rival.cost)
          ? worst(
              rivals.map((rival) => ({
                rival,
                s: {
                  value: (rival.cost as OperationCost).totalUs / subjectCost.totalUs,
                  spread: (subject.costSpread ?? 0) + (rival.costSpread ?? 0),
                },
              })),
            )
          : undefined;
      const useCpu = byCpu !== undefined && byCpu.s.spread < byOps.s.spread;
      const chosen = useCpu ? byCpu : byOps;
      result.push({
        group,
        case: subject.name,
        rival: chosen.rival.name,
        throughput: byOps.s,
        ...(byCpu && { cpu: byCpu.s }),
        chosen: useCpu ? 'CPU/op' : 'ops/s',
        ratio: chosen.s.value,
        ...(subject.target !== undefined && { target: subject.target, met: chosen.s.value >= subject.target }),
      });
    }
  }
  return result;
}

/** Cases by group, groups and members in declaration order; checks each group has exactly one anchor. */
function groupCases(cases: BenchCase[]): Map<string, BenchCase[]> {
  const groups = new Map<string, BenchCase[]>();
  for (const benchCase of cases) {
    const members = groups.get(benchCase.group) ?? [];
    members.push(benchCase);
    groups.set(benchCase.group, members);
  }
  for (const [group, members] of groups) {
    const anchors = members.filter((c) => c.anchor).length;
    if (anchors !== 1) throw new Error(`Benchmark group "${group}" needs exactly one anchor case, found ${anchors}.`);
  }
  return groups;
}

function best(measurements: RoundMeasurement[]): RoundMeasurement {
  return measurements.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
}
