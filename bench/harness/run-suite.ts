import type { CaseReport, MeasurementPlan, RoundMeasurement } from './bench-report.interface.js';
import type { BenchCase } from './bench-suite.interface.js';
import { runWorkload } from './run-workload.js';

/**
 * Measures every case `plan.rounds` times and keeps each case's best round (highest ops/s).
 *
 * Fairness: a round runs every group, and the cases of a group run back to back (so they share the machine's
 * state of the moment) in declaration order on even rounds and reversed on odd ones (A B, then B A), so neither
 * side always goes first. Rounds are spread over the whole run, so a burst of load elsewhere hits one round of a
 * case rather than all of them. Best-of rather than mean because on a shared machine noise only slows a round
 * down, never speeds it up.
 *
 * @param onRound called after each round, for progress output
 * @throws Error when a group has no anchor or several
 */
export async function runSuiteCases(
  cases: BenchCase[],
  plan: MeasurementPlan,
  onRound: (benchCase: BenchCase, round: number, measurement: RoundMeasurement) => void = () => undefined,
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
    return {
      group: benchCase.group,
      name: benchCase.name,
      anchor: benchCase.anchor === true,
      concurrency: benchCase.concurrency ?? 1,
      ...measurement,
      xAnchor: anchorOps > 0 ? measurement.opsPerSec / anchorOps : Number.NaN,
      rounds: rounds.get(benchCase) ?? [],
    };
  });
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
