// CPU time and peak memory of the processes a benchmark involves, read from
// /proc (Linux): broker instances, the PostgreSQL server and its backends,
// slapd. CPU in milliseconds (utime + stime), peak RSS (VmHWM) in MiB.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

// A process and its children (PostgreSQL forks one backend per connection).
export function family(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  return [pid, ...all.filter((p) => parentOf(p) === pid)];
}

// CPU of a process, of its live children, and of the children it has
// reaped (cutime + cstime): a PostgreSQL backend that exits between two
// readings would otherwise take its CPU out of the sum (readings that went
// down, in the paired rounds' PostgreSQL column).
export const familyCpuMs = (pid: number): number =>
  family(pid).reduce((sum, p) => sum + cpuMs(p), 0) + reapedCpuMs(pid);

function reapedCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

// The postmaster's pid, from its data folder.
export function postmasterPid(dataDir: string): number {
  const file = join(dataDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : 0;
}
