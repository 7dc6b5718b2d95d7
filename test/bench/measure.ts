/**
 * Measuring helpers for the benchmark: native commands under `/usr/bin/time` (wall, CPU, max
 * RSS of the command itself), a process's peak RSS and CPU from /proc (for the server child),
 * and the statistics the report prints.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CommandFigures {
  /** Seconds. */
  wall: number;
  /** User + system seconds, children included. */
  cpu: number;
  /** Peak resident set, MiB. */
  maxRssMb: number;
}

const TIME = '/usr/bin/time';
let counter = 0;

/** Whether GNU time is there; without it RSS of native commands is reported as unknown (NaN). */
export function haveGnuTime(): boolean {
  return existsSync(TIME);
}

/**
 * Runs a command once, stdout to `stdoutFile` (default /dev/null), and reports what GNU time
 * measured. Fails when the command fails.
 */
export async function timeCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdoutFile?: string } = {},
): Promise<CommandFigures> {
  const out = join(tmpdir(), `bench-time-${process.pid}-${++counter}.txt`);
  const useTime = haveGnuTime();
  const argv = useTime ? ['-f', '%e %U %S %M', '-o', out, cmd, ...args] : args;
  const fd = openSync(options.stdoutFile ?? '/dev/null', 'w');
  const started = performance.now();
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(useTime ? TIME : cmd, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, 'pipe'] });
      const err: Buffer[] = [];
      child.stderr?.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr: Buffer.concat(err).toString() }));
    });
    const wallOwn = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-2000)}`);
    if (!useTime) return { wall: wallOwn, cpu: NaN, maxRssMb: NaN };
    const fields = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    const [, user, sys, rssKb] = fields as [number, number, number, number];
    // Our clock, not time's %e: that one has 10 ms steps, useless for small repositories.
    return { wall: wallOwn, cpu: user + sys, maxRssMb: rssKb / 1024 };
  } finally {
    closeSync(fd);
    await rm(out, { force: true });
  }
}

/** Mean wall time of `n` back-to-back runs (for commands that take milliseconds); RSS of the last. */
export async function timeCommandMean(
  cmd: string,
  args: string[],
  n: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandFigures> {
  let wall = 0;
  let cpu = 0;
  let last: CommandFigures | null = null;
  for (let i = 0; i < n; i++) {
    last = await timeCommand(cmd, args, options);
    wall += last.wall;
    cpu += last.cpu;
  }
  return { wall: wall / n, cpu: cpu / n, maxRssMb: last!.maxRssMb };
}

/** Peak RSS (VmHWM) and current RSS of a live process, MiB. */
export async function processMemory(pid: number): Promise<{ peakMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** Resets the kernel's peak-RSS mark of a process (ours), so the next peak is per phase. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a live process has used so far (all its threads). */
export async function processCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export async function loadAverage(): Promise<string> {
  try {
    return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}
