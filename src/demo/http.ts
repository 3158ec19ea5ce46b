/** One HTTP exchange as the runner sees it. */
export interface HttpResult<Body = unknown> {
  status: number;
  body: Body;
  headers: Headers;
}

/** `fetch` with a JSON body and a timeout; a network failure is status 0 with the error message as body. */
export async function http<Body = unknown>(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  {
    body,
    headers = {},
    timeoutMs = 30_000,
  }: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult<Body>> {
  try {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as Body, headers: response.headers };
  } catch (error) {
    return {
      status: 0,
      body: (error instanceof Error ? error.message : String(error)) as Body,
      headers: new Headers(),
    };
  }
}

/** Runs `task` for 0…count−1 with at most `concurrency` in flight; results in index order. */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  });
  await Promise.all(lanes);
  return results;
}
