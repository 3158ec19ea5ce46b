/**
 * Settles like `work`, or rejects with `timeoutError()` after `ms`; `work` itself keeps running. The timer never
 * outlives the race.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
