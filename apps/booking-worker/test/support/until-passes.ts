/** Retries `check` (an assertion block) until it stops throwing or `timeoutMs` passes; then rethrows its error. */
export async function untilPasses<T>(check: () => Promise<T>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, stepMs));
    }
  }
}
