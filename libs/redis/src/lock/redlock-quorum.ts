import type { RedisClient } from '../connection/redis-connection.factory.js';

/** One node's answer: its value, or why it has none (`refused`: the node said no; else it failed or timed out). */
export type Vote<T> = { ok: true; value: T } | { ok: false; refused: boolean; error?: unknown };

/**
 * Runs `command` on every node in parallel (each command is bounded by its own deadline) and resolves as soon as
 * `decided` holds for `quorum` nodes (or can no longer), leaving stragglers to settle in the background.
 *
 * @returns one vote per node, in node order (`{ ok: false, refused: false }` for a node that has not answered yet)
 */
export function pollQuorum<T>(
  nodes: ReadonlyArray<{ client: RedisClient }>,
  quorum: number,
  command: (client: RedisClient, index: number) => Promise<T>,
  decided: (value: T) => boolean = () => true,
): Promise<Array<Vote<T>>> {
  const votes: Array<Vote<T>> = nodes.map(() => ({ ok: false, refused: false }));
  return new Promise((resolve) => {
    let settled = 0;
    let yes = 0;
    let no = 0;
    nodes.forEach((node, index) => {
      command(node.client, index)
        .then(
          (value) => {
            votes[index] = { ok: true, value };
            if (decided(value)) yes += 1;
            else no += 1;
          },
          (error: unknown) => {
            votes[index] = { ok: false, refused: false, error };
            no += 1;
          },
        )
        .finally(() => {
          settled += 1;
          if (settled === nodes.length || yes >= quorum || no > nodes.length - quorum) resolve(votes);
        });
    });
  });
}
