import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** The machine a benchmark ran on, as RESULTS.md records it. */
export interface MachineInfo {
  /** Processors available to this process, as `nproc` counts them. */
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
}

function cpuModelName(): string {
  const fromOs = cpus()[0]?.model.trim();
  if (fromOs) {
    return fromOs;
  }
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(now: Date = new Date()): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpuModelName(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: now.toISOString(),
  };
}
