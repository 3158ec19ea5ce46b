/** A timer wait that can end early; see {@link startSleep}. */
export interface Sleep {
  /** `true` when it ended early ({@link Sleep.wake} or the signal), `false` when its time ran out. Never rejects. */
  readonly done: Promise<boolean>;
  /** Ends it now (`done` resolves `true`); nothing happens once it has ended. */
  wake(): void;
}

/**
 * Sleeps `ms`, ending early on `wake()` or when `signal` aborts (a signal aborted already ends it on the next
 * microtask). Whichever comes first clears the timer and the abort listener and runs `onEnd` synchronously, before
 * `done` resolves, so a caller's bookkeeping (a waiter set, a pending wake-up) never holds an ended sleep; `onEnd`
 * never runs before `startSleep` returns. The library's one hand-made sleep (never a bare
 * `new Promise((resolve) => setTimeout(resolve, ms))`); timer races are `settleWithin` / `waitWithin`.
 */
export function startSleep(ms: number, { signal, onEnd }: { signal?: AbortSignal; onEnd?: () => void } = {}): Sleep {
  let ended = false;
  let resolve!: (woken: boolean) => void;
  const done = new Promise<boolean>((r) => (resolve = r));
  const end = (woken: boolean) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', wake);
    onEnd?.();
    resolve(woken);
  };
  const wake = () => end(true);
  const timer = setTimeout(() => end(false), ms);
  if (signal?.aborted) queueMicrotask(wake);
  else signal?.addEventListener('abort', wake, { once: true });
  return { done, wake };
}

/** Sleeps `ms`, or less when `signal` aborts; never rejects (see {@link startSleep}). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await startSleep(ms, { signal }).done;
}
