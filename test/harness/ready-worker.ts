import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** A spawned worker process that printed "ready" and waits for its orders on stdin. */
export interface ReadyWorker {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with everything the process printed once it exited with code 0; rejects with its stderr otherwise. */
  output: Promise<string>;
  /** Everything the process printed so far. */
  stdout(): string;
}

/**
 * Resolves once `child` printed "ready" as its first line (rejects if it exits before): the one handshake of the
 * multi-process tests, whose workers boot, print "ready", then wait for "go" so they all start together.
 */
export function whenReady(child: ChildProcessWithoutNullStreams): Promise<ReadyWorker> {
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = new Promise<string>((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`worker exited ${code}: ${stderr}`)),
    ),
  );
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.startsWith('ready\n')) resolve({ child, output, stdout: () => stdout });
    });
    output.catch(reject);
  });
}
