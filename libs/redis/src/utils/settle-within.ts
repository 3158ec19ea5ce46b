/**
 * Settles like `work`, or rejects with `timeoutError()` after `ms`; `work` itself keeps running. The timer never
 * outlives the race. The library's one timer race (with {@link waitWithin}): never race a hand-made `setTimeout`.
 *
 * The rejection waits for `setImmediate`: timers run before I/O in each event-loop turn, so after a stall (a long
 * synchronous task, a GC pause) an answer that already sits in a socket is read first and wins the race; the
 * deadline measures the other side, not this process.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => setImmediate(() => reject(timeoutError())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `work` to settle (fulfilled or rejected alike) for at most `ms`: a bounded wait that never throws, for
 * shutdown drains, bounded QUITs and interruptible sleeps.
 *
 * @returns `true` when `work` settled in time, `false` when `ms` ran out first (`work` keeps running)
 */
export async function waitWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const outcome = await settleWithin(
    work.then(
      () => undefined,
      () => undefined,
    ),
    ms,
    () => new Error('timed out'),
  ).catch(() => TIMED_OUT);
  return outcome !== TIMED_OUT;
}
