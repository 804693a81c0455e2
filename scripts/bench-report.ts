import type { CpuUsage } from './bench-cpu.js';
import type { EndToEndResult } from './bench-end-to-end.js';
import type { LatencySummary } from './bench-load.js';

export const INGEST_TARGETS = ['baseline', 'serve', 'start'] as const;
export type IngestTarget = (typeof INGEST_TARGETS)[number];

const TARGET_LABELS: Readonly<Record<IngestTarget, string>> = {
  baseline: 'baseline',
  serve: 'service serve',
  start: 'service start',
};

const TARGET_DESCRIPTIONS: Readonly<Record<IngestTarget, string>> = {
  baseline: 'node:http server that reads the body, runs stripe-node verifyHeader and JSON.parse, responds 200, and has no store',
  serve: '`stripe-pipeline serve`: HTTP ingest only, no worker',
  start: '`stripe-pipeline start`: HTTP ingest and the worker in one process, as users run it',
};

/** Share of the machine's CPU used by other processes above which a phase's figures are flagged. */
const BUSY_SHARE = 0.1;

/** Events by status in the service's store right after the timed phase (the `start` target only). */
export type StatusCounts = Readonly<Record<string, number>>;

export interface IngestFigures extends LatencySummary {
  /** Null where /proc is not available. */
  readonly cpu: CpuUsage | null;
  readonly statusesAfterLoad?: StatusCounts;
}

/** End-to-end figures; the CPU times are per event instead of per request. */
export interface EndToEndFigures extends EndToEndResult {
  readonly cpu: CpuUsage | null;
}

/** Service figure divided by baseline figure: above 1 is slower for latencies, below 1 is slower for throughput. */
export interface Ratios {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export interface BenchReport {
  readonly bench: 'stripe-webhook-pipeline';
  readonly startedAt: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly settings: {
    readonly sampleFile: string;
    readonly sampleBytes: number;
    readonly requests: number;
    readonly warmupRequests: number;
    readonly concurrency: number;
    readonly endToEndEvents: number;
    readonly workerConcurrency: number;
    readonly serviceRoot: string;
  };
  readonly ingest: Partial<Record<IngestTarget, IngestFigures>>;
  readonly ratios: Partial<Record<Exclude<IngestTarget, 'baseline'>, Ratios>>;
  readonly endToEnd: EndToEndFigures | null;
}

export function ratiosAgainst(baseline: LatencySummary, target: LatencySummary): Ratios {
  return {
    requestsPerSecond: target.requestsPerSecond / baseline.requestsPerSecond,
    p50: target.p50Ms / baseline.p50Ms,
    p99: target.p99Ms / baseline.p99Ms,
  };
}

/** Formats the report as a table of plain text lines. */
export function formatTable(report: BenchReport): string {
  const { settings } = report;
  const lines = [
    `Ingest of a ${count(settings.sampleBytes)}-byte signed ${settings.sampleFile}, a new event id per request: ` +
      `${count(settings.requests)} timed requests after ${count(settings.warmupRequests)} warm-up, ${settings.concurrency} keep-alive connections.`,
    `The client runs in the bench process and shares the ${report.machine.cpus} cores with the server. ` +
      '× columns are service / baseline; "CPU ms/req" is the server\'s CPU time; "others" is the CPU share of unrelated processes.',
    '',
    row(['target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'CPU ms/req', 'others', 'req/s ×', 'p50 ×', 'p99 ×']),
  ];
  for (const target of INGEST_TARGETS) {
    const figures = report.ingest[target];
    if (figures === undefined) continue;
    const ratios = target === 'baseline' ? undefined : report.ratios[target];
    lines.push(
      row([
        TARGET_LABELS[target],
        figures.requestsPerSecond.toFixed(0),
        figures.p50Ms.toFixed(2),
        figures.p90Ms.toFixed(2),
        figures.p99Ms.toFixed(2),
        figures.maxMs.toFixed(1),
        figures.cpu === null ? '-' : figures.cpu.serverMsPerRequest.toFixed(3),
        figures.cpu === null ? '-' : percent(figures.cpu.otherShare),
        ratios === undefined ? '-' : ratios.requestsPerSecond.toFixed(2),
        ratios === undefined ? '-' : ratios.p50.toFixed(2),
        ratios === undefined ? '-' : ratios.p99.toFixed(2),
      ]),
    );
  }
  lines.push('');
  for (const target of INGEST_TARGETS) {
    if (report.ingest[target] !== undefined) lines.push(`  ${TARGET_LABELS[target].padEnd(14)} ${TARGET_DESCRIPTIONS[target]}`);
  }
  const busy = busyPhases(report);
  if (busy.length > 0) {
    lines.push(`NOTE: other processes used more than ${percent(BUSY_SHARE)} of the CPU during ${busy.join(', ')}; those figures are lower than on a quiet machine.`);
  }
  const statuses = report.ingest.start?.statusesAfterLoad;
  if (statuses !== undefined) {
    lines.push(`With the worker, events by status when the last response arrived: ${formatCounts(statuses)}.`);
  }

  const e2e = report.endToEnd;
  if (e2e !== null) {
    const cpu = e2e.cpu === null ? '' : `; server CPU ${e2e.cpu.serverMsPerRequest.toFixed(3)} ms/event, others ${percent(e2e.cpu.otherShare)}`;
    lines.push(
      '',
      `End to end (service start, WORKER_CONCURRENCY=${settings.workerConcurrency}): ${count(e2e.events)} events of the sample journeys, ` +
        `${count(e2e.deliveries)} deliveries, ${settings.concurrency} in flight`,
      `  ${e2e.eventsPerSecond.toFixed(0)} events/s: all delivered after ${e2e.deliverSeconds.toFixed(2)} s, all processed after ${e2e.totalSeconds.toFixed(2)} s; ` +
        `${e2e.eventsWithRetries} events needed a retry${cpu}.`,
    );
  }
  return lines.join('\n');
}

function busyPhases(report: BenchReport): string[] {
  const phases: string[] = [];
  for (const target of INGEST_TARGETS) {
    const share = report.ingest[target]?.cpu?.otherShare;
    if (share !== undefined && share > BUSY_SHARE) phases.push(TARGET_LABELS[target]);
  }
  const endToEndShare = report.endToEnd?.cpu?.otherShare;
  if (endToEndShare !== undefined && endToEndShare > BUSY_SHARE) phases.push('end to end');
  return phases;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

function formatCounts(counts: StatusCounts): string {
  return Object.entries(counts)
    .filter(([, value]) => value > 0)
    .map(([status, value]) => `${status} ${count(value)}`)
    .join(', ');
}

const COLUMN_WIDTHS = [14, 6, 7, 7, 7, 7, 10, 6, 7, 6, 6];

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) => {
      const width = COLUMN_WIDTHS[index] ?? 8;
      return index === 0 ? cell.padEnd(width) : cell.padStart(width);
    })
    .join(' ');
}
