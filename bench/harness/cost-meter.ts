import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { OperationCost } from './bench-report.interface.js';

/** Counters read at one instant: CPU time in µs of each party, and Redis commands executed. */
export interface CostSnapshot {
  benchUs: number;
  childrenUs: number;
  redisUs: number;
  redisCommands: number;
  /** Socket writes made by this process (each a round trip or part of one; pipelined commands share a write). */
  socketWrites: number;
}

let socketWrites = 0;
let countingWrites = false;

/**
 * Counts every socket write of this process from now on (ioredis clients, HTTP agents), by wrapping
 * `net.Socket.prototype.write` once. A write is one message on the wire: requests sent one at a time each take one,
 * pipelined ones share it, so writes per operation is the number of round trips an operation waits for (plus
 * writes that need no answer).
 */
function countSocketWrites(): void {
  if (countingWrites) return;
  countingWrites = true;
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    socketWrites++;
    return write.apply(this, args);
  } as Socket['write'];
}

/**
 * On-CPU time of a process in µs: the sum over its threads of the first field of `/proc/<pid>/task/<tid>/schedstat`
 * (ns the scheduler ran the thread). Nanosecond resolution, unlike `stat`'s clock ticks (10 ms), which matters in a
 * 600 ms window. A thread that exited between the listing and the read is skipped; 0 when the process is gone.
 */
export function processCpuUs(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1_000;
}

function field(info: string, name: string): number {
  return Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
}

/**
 * Reads what one operation costs everybody involved: this process (`process.cpuUsage`), child processes (schedstat)
 * and every Redis (`INFO cpu`: used_cpu_user + used_cpu_sys, µs resolution; `INFO commandstats`: calls, those
 * run inside scripts included, without the meter's own INFO), and this process' socket writes (round trips). Redis counters are only clean on a server nobody else uses (the runner starts its own unless
 * REDIS_URL is set).
 */
export class CostMeter {
  private readonly admins: Redis[];

  constructor(
    redisUrls: string[],
    private readonly pids: number[],
  ) {
    this.admins = [...new Set(redisUrls)].map((url) => new Redis(url, { maxRetriesPerRequest: 1 }));
    countSocketWrites();
  }

  async snapshot(): Promise<CostSnapshot> {
    const writes = socketWrites;
    const cpu = process.cpuUsage();
    const childrenUs = this.pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
    const infos = await Promise.all(this.admins.map((admin) => admin.info('cpu', 'commandstats') as Promise<string>));
    let redisUs = 0;
    let redisCommands = 0;
    for (const info of infos) {
      redisUs += (field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')) * 1e6;
      for (const [, name, calls] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
        if (name !== 'info') redisCommands += Number(calls);
      }
    }
    return { benchUs: cpu.user + cpu.system, childrenUs, redisUs, redisCommands, socketWrites: writes };
  }

  /** Cost per operation between two snapshots spanning `operations` operations. */
  static perOperation(before: CostSnapshot, after: CostSnapshot, operations: number): OperationCost {
    const per = (a: number, b: number) => (operations > 0 ? (b - a) / operations : 0);
    const benchUs = per(before.benchUs, after.benchUs);
    const childrenUs = per(before.childrenUs, after.childrenUs);
    const redisUs = per(before.redisUs, after.redisUs);
    return {
      benchUs,
      childrenUs,
      redisUs,
      totalUs: benchUs + childrenUs + redisUs,
      redisCommands: per(before.redisCommands, after.redisCommands),
      socketWrites: per(before.socketWrites, after.socketWrites),
    };
  }

  close(): void {
    this.admins.forEach((admin) => admin.disconnect());
  }
}
