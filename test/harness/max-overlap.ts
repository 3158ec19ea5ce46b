/** A time interval (start inclusive, end exclusive), in any one clock shared by whoever recorded it. */
export interface TimeInterval {
  start: number;
  end: number;
}

/**
 * The most intervals open at one instant: how many holders of a lock, permits of a semaphore or calls of a capped
 * step ran at once. An interval ending at t does not overlap one starting at t (back-to-back hand-overs).
 */
export function maxOverlap(intervals: readonly TimeInterval[]): number {
  const events = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const event of events) most = Math.max(most, (open += event.delta));
  return most;
}
