/**
 * A progress display on one terminal line (rewritten in place), or one line per phase change and every few seconds
 * when stdout is not a terminal (CI logs).
 */
export class ProgressLine {
  private readonly tty = Boolean(process.stdout.isTTY);
  private lastPhase = '';
  private lastPrinted = 0;

  update(phase: string, done: number, total: number, tally: Record<string, number>): void {
    const width = 24;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const counts = Object.entries(tally)
      .map(([label, count]) => `${label}: ${count}`)
      .join('  ');
    const line = `  ${phase.padEnd(20)} ${bar} ${String(done).padStart(4)}/${total}  ${counts}`;
    if (this.tty) {
      process.stdout.write(`\r${line}\x1b[K`);
      if (done === total) process.stdout.write('\n');
      return;
    }
    const now = Date.now();
    if (phase !== this.lastPhase || done === total || now - this.lastPrinted > 2_000) {
      process.stdout.write(`${line}\n`);
      this.lastPhase = phase;
      this.lastPrinted = now;
    }
  }
}
