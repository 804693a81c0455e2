import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * CPU time of the server, of the bench process and of everything else on the machine during a
 * timed phase, read from Linux's /proc. A server blocked in fsync uses no CPU, so the server's CPU
 * time per request separates computing from waiting for the disk. Other processes' share shows
 * whether the machine was quiet; a busy machine lowers every figure.
 */
export interface CpuUsage {
  /** CPU time of the server process (all its threads), per timed request. */
  readonly serverMsPerRequest: number;
  /** CPU time of the bench process (the load generator), per timed request. */
  readonly clientMsPerRequest: number;
  /** CPU used by other processes, as a share of all cores over the phase (0 to 1). */
  readonly otherShare: number;
}

interface CpuSnapshot {
  readonly atMs: number;
  readonly machineBusyMs: number;
  readonly serverMs: number;
  readonly clientMs: number;
}

let ticksPerSecond: number | null = null;

/** Clock ticks per second of /proc's CPU times (USER_HZ), read once. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    const output = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    const value = Number(output);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`getconf CLK_TCK should print a positive whole number, got "${output}"`);
    ticksPerSecond = value;
  }
  return ticksPerSecond;
}

/** Busy time of all cores since boot: every /proc/stat column except idle and iowait. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // Columns: user nice system idle iowait irq softirq steal guest guest_nice. Guest time is
  // already inside user and nice, so only the first eight count.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / clockTicksPerSecond();
}

/** User plus system time of a process and all its threads, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in brackets may contain spaces, so fields are counted after its closing bracket.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / clockTicksPerSecond();
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Starts measuring CPU time for a phase in which `serverPid` serves the requests. Returns a
 * function that ends the phase, or null where /proc is not available (not Linux).
 */
export function startCpuMeasurement(serverPid: number): ((requests: number) => CpuUsage) | null {
  if (os.platform() !== 'linux') return null;
  const take = (): CpuSnapshot => ({
    atMs: performance.now(),
    machineBusyMs: machineBusyMs(),
    serverMs: processCpuMs(serverPid),
    clientMs: ownCpuMs(),
  });
  const before = take();
  return (requests: number): CpuUsage => {
    const after = take();
    const serverMs = after.serverMs - before.serverMs;
    const clientMs = after.clientMs - before.clientMs;
    const otherMs = Math.max(0, after.machineBusyMs - before.machineBusyMs - serverMs - clientMs);
    const capacityMs = (after.atMs - before.atMs) * os.availableParallelism();
    return {
      serverMsPerRequest: serverMs / requests,
      clientMsPerRequest: clientMs / requests,
      otherShare: capacityMs > 0 ? otherMs / capacityMs : 0,
    };
  };
}
