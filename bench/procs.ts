// CPU time and peak memory of the processes a benchmark involves, read from
// /proc (Linux): broker instances, the PostgreSQL server and its backends,
// slapd. CPU in milliseconds (utime + stime), peak RSS (VmHWM) in MiB.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICK_MS = 10; // USER_HZ is 100 on Linux

// The fields of /proc/<pid>/stat after the parenthesised command name
// (which may hold spaces): state, ppid, …; empty once the process is gone.
function statFields(pid: number): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

// Ticks of two fields of its stat (utime + stime, or cutime + cstime) in ms.
function ticksMs(pid: number, first: number): number {
  const fields = statFields(pid);
  return fields.length > 0 ? (Number(fields[first]) + Number(fields[first + 1])) * TICK_MS : 0;
}

export const cpuMs = (pid: number): number => ticksMs(pid, 11);

export function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const parentOf = (pid: number): number => Number(statFields(pid)[1] ?? 0);

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
  family(pid).reduce((sum, p) => sum + cpuMs(p), 0) + ticksMs(pid, 13);

// The postmaster's pid, from its data folder.
export function postmasterPid(dataDir: string): number {
  const file = join(dataDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : 0;
}
