import { Controller, Get } from '@nestjs/common';
import { type HoldsReleaseRun, HoldsReleaseRuns } from './holds-release.runs.js';

/** Read-only view of the hold-release job's runs (for operators, the demo runner and tests). */
@Controller('holds-release')
export class HoldsReleaseController {
  constructor(private readonly runs: HoldsReleaseRuns) {}

  /** Every recorded run (the last 10,000), oldest first, whichever replica ran it. */
  @Get('runs')
  async list(): Promise<{ runs: HoldsReleaseRun[] }> {
    return { runs: await this.runs.list() };
  }
}
