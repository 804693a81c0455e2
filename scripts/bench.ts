import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedBackend } from '../src/backend/embedded.js';
import { loadConfig } from '../src/config/config.js';
import { createSilentLogger } from '../src/logger.js';
import { readSample } from '../src/samples/fixtures.js';
import { measureEndToEnd } from './bench-end-to-end.js';
import { startCpuMeasurement } from './bench-cpu.js';
import { BenchError } from './bench-errors.js';
import { runLoad, sampleCopier, signAll, summarize } from './bench-load.js';
import { installCleanupOnExit, REPO_ROOT, startBaseline, startService, type RunningChild } from './bench-processes.js';
import { formatTable, INGEST_TARGETS, ratiosAgainst, type BenchReport, type EndToEndFigures, type IngestFigures, type IngestTarget, type StatusCounts } from './bench-report.js';

/**
 * `npm run bench`: measures on this machine how fast a bare `node:http` baseline and the service
 * (ingest only, and ingest with its worker) take in a signed ~3 KB event. It also measures the
 * end-to-end rate of the sample journeys, from the first request to the last event processed. Prints
 * a table and one JSON line with every figure. Exits 1 when a process does not start or a request
 * fails; slow figures are figures, not failures. All traffic goes to 127.0.0.1.
 */

const SAMPLE_FILE = 'charge.dispute.created.json';
const SECRET = 'whsec_bench_secret_for_local_measurements_only';
const SCENARIOS = [...INGEST_TARGETS, 'e2e'] as const;
type Scenario = (typeof SCENARIOS)[number];

const HELP = `Usage: npm run bench -- [options]

Options (each also read from the environment variable in brackets):
  --requests <n>      timed ingest requests per target (BENCH_REQUESTS, default 5000)
  --warmup <n>        ingest requests sent before timing starts (BENCH_WARMUP, default 1000)
  --concurrency <n>   keep-alive connections, and deliveries in flight end to end (BENCH_CONCURRENCY, default 16)
  --events <n>        minimum events of the sample journeys end to end (BENCH_EVENTS, default 1500)
  --only <list>       comma-separated subset of baseline,serve,start,e2e (BENCH_ONLY, default all)
  --root <dir>        repository whose service is measured, e.g. a modified copy (BENCH_SERVICE_ROOT, default this one)
  --service-node-args <text>
                      extra Node options for the service, space-separated; write
                      --service-node-args="--cpu-prof --cpu-prof-dir=prof" (BENCH_SERVICE_NODE_ARGS)
  --help              print this text
`;

interface BenchOptions {
  readonly requests: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly events: number;
  readonly scenarios: ReadonlySet<Scenario>;
  readonly root: string;
  readonly serviceNodeArgs: readonly string[];
}

function readOptions(argv: readonly string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      requests: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      events: { type: 'string' },
      only: { type: 'string' },
      root: { type: 'string' },
      'service-node-args': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return null;

  const only = (values.only ?? process.env['BENCH_ONLY'] ?? SCENARIOS.join(',')).split(',').map((name) => name.trim());
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new RangeError(`--only should list some of ${SCENARIOS.join(', ')}, got "${unknown.join(', ')}"`);

  const root = path.resolve(values.root ?? process.env['BENCH_SERVICE_ROOT'] ?? REPO_ROOT);
  if (!existsSync(path.join(root, 'src', 'cli', 'main.ts'))) {
    throw new RangeError(`--root should be a copy of this repository with src/cli/main.ts, got "${root}"`);
  }

  return {
    requests: wholeNumber('--requests', values.requests ?? process.env['BENCH_REQUESTS'], 5000, 1),
    warmup: wholeNumber('--warmup', values.warmup ?? process.env['BENCH_WARMUP'], 1000, 0),
    concurrency: wholeNumber('--concurrency', values.concurrency ?? process.env['BENCH_CONCURRENCY'], 16, 1),
    events: wholeNumber('--events', values.events ?? process.env['BENCH_EVENTS'], 1500, 1),
    scenarios: new Set(only as Scenario[]),
    root,
    serviceNodeArgs: (values['service-node-args'] ?? process.env['BENCH_SERVICE_NODE_ARGS'] ?? '').split(/\s+/).filter((arg) => arg !== ''),
  };
}

function wholeNumber(name: string, text: string | undefined, fallback: number, minimum: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) throw new RangeError(`${name} should be a whole number of at least ${minimum}, got "${text}"`);
  return value;
}

/** Tells whether the error is an invalid option: an unknown flag (node:util parseArgs) or a value out of range. */
function isUsageError(error: unknown): error is Error {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

/** Starts one target, sends the warm-up and the timed requests, and stops it. */
async function measureIngest(target: IngestTarget, options: BenchOptions, sampleRaw: string, runTag: string): Promise<IngestFigures> {
  const startTimeoutMs = 60_000;
  let child: RunningChild;
  let dataDir: string | null = null;
  if (target === 'baseline') {
    child = await startBaseline({ secret: SECRET, startTimeoutMs });
  } else {
    const service = await startService({ command: target, root: options.root, secret: SECRET, startTimeoutMs, nodeArgs: options.serviceNodeArgs });
    child = service;
    dataDir = service.dataDir;
  }
  try {
    const copy = sampleCopier(sampleRaw, runTag);
    const bodies = Array.from({ length: options.warmup + options.requests }, (_, index) => copy(index));
    const signed = signAll(bodies, SECRET);
    const load = { port: child.port, path: '/webhooks/stripe', concurrency: options.concurrency };

    progress(`${target}: ${options.warmup} warm-up requests`);
    if (options.warmup > 0) await runLoad({ ...load, requests: signed.slice(0, options.warmup) });
    progress(`${target}: ${options.requests} timed requests`);
    const endCpuMeasurement = startCpuMeasurement(child.pid);
    const { latenciesMs, seconds } = await runLoad({ ...load, requests: signed.slice(options.warmup) });
    const summary = { ...summarize(latenciesMs, seconds), cpu: endCpuMeasurement?.(options.requests) ?? null };

    if (target !== 'start' || dataDir === null) return summary;
    return { ...summary, statusesAfterLoad: await readStatusCounts(dataDir) };
  } catch (error) {
    if (error instanceof BenchError) throw withOutput(error, child);
    throw error;
  } finally {
    await child.stop();
  }
}

/** Reads events by status from a running service's SQLite file, beside the service. */
async function readStatusCounts(dataDir: string): Promise<StatusCounts> {
  const backend = await openEmbeddedBackend({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), logger: createSilentLogger() });
  try {
    return await backend.events.countByStatus();
  } finally {
    await backend.close();
  }
}

async function measureJourneys(options: BenchOptions, workerConcurrency: number): Promise<EndToEndFigures> {
  const service = await startService({
    command: 'start',
    root: options.root,
    secret: SECRET,
    startTimeoutMs: 60_000,
    nodeArgs: options.serviceNodeArgs,
  });
  try {
    progress(`e2e: sample journeys until at least ${options.events} events, WORKER_CONCURRENCY=${workerConcurrency}`);
    const endCpuMeasurement = startCpuMeasurement(service.pid);
    const result = await measureEndToEnd({
      url: `http://127.0.0.1:${service.port}/webhooks/stripe`,
      dataDir: service.dataDir,
      secret: SECRET,
      minimumEvents: options.events,
      concurrency: options.concurrency,
      // Allows 50 events per second plus a minute, several times slower than measured, so a timeout means a stuck worker.
      timeoutMs: 60_000 + options.events * 20,
    });
    return { ...result, cpu: endCpuMeasurement?.(result.events) ?? null };
  } catch (error) {
    if (error instanceof BenchError) throw withOutput(error, service);
    throw error;
  } finally {
    await service.stop();
  }
}

/** Adds the end of the process's output to the error, since it usually names the cause. */
function withOutput(error: BenchError, child: RunningChild): BenchError {
  const tail = child.outputTail().trim();
  if (tail === '') return error;
  return new BenchError(`${error.message}\nLast output of the ${child.name} process:\n${tail}`, { cause: error });
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (options === null) {
    console.log(HELP);
    return;
  }
  installCleanupOnExit();

  const sample = readSample(SAMPLE_FILE);
  // The project's own default, so the figure follows it if it changes.
  const workerConcurrency = loadConfig({}).worker.concurrency;
  const startedAt = new Date().toISOString();

  const ingest: Partial<Record<IngestTarget, IngestFigures>> = {};
  for (const [index, target] of INGEST_TARGETS.entries()) {
    if (!options.scenarios.has(target)) continue;
    ingest[target] = await measureIngest(target, options, sample.raw, 'abc'.charAt(index));
  }
  const endToEnd = options.scenarios.has('e2e') ? await measureJourneys(options, workerConcurrency) : null;

  const baseline = ingest.baseline;
  const report: BenchReport = {
    bench: 'stripe-webhook-pipeline',
    startedAt,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    settings: {
      sampleFile: SAMPLE_FILE,
      sampleBytes: Buffer.byteLength(sample.raw),
      requests: options.requests,
      warmupRequests: options.warmup,
      concurrency: options.concurrency,
      endToEndEvents: endToEnd?.events ?? 0,
      workerConcurrency,
      serviceRoot: options.root,
    },
    ingest,
    ratios: {
      ...(baseline && ingest.serve ? { serve: ratiosAgainst(baseline, ingest.serve) } : {}),
      ...(baseline && ingest.start ? { start: ratiosAgainst(baseline, ingest.start) } : {}),
    },
    endToEnd,
  };

  console.log(formatTable(report));
  console.log(JSON.stringify(report));
}

try {
  await main();
} catch (error) {
  if (isUsageError(error)) {
    console.error(`${error.message}\n\n${HELP}`);
    process.exitCode = 2;
  } else if (error instanceof BenchError) {
    console.error(`bench failed: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error('bench failed with an unexpected error:', error);
    process.exitCode = 1;
  }
}
