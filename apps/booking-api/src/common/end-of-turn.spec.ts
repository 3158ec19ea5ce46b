import { readFile } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { endOfTurn } from './end-of-turn.js';

describe('endOfTurn()', () => {
  it("resolves after this turn's ticks and promise continuations, before the next turn's timers", async () => {
    const order: string[] = [];
    // From an I/O callback, as a request handler runs: there the check phase comes before the next timers.
    await new Promise<void>((done) => {
      readFile(fileURLToPath(import.meta.url), () => {
        setTimeout(() => {
          order.push('timer');
          done();
        }, 0);
        void endOfTurn().then(() => order.push('end of turn'));
        process.nextTick(() => order.push('tick'));
        void Promise.resolve().then(() => order.push('continuation'));
      });
    });
    expect(order).toEqual(['tick', 'continuation', 'end of turn', 'timer']);
  });
});
