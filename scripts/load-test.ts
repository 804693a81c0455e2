/**
 * Load test of the distributed mode on this machine, fed with copies of the sample journeys. It
 * starts two `serve` and three `worker` processes on the Redis at 127.0.0.1:6379, under a key
 * prefix of its own, and the PostgreSQL at 127.0.0.1:5432 (database `test`, a schema of its own).
 * Everything it creates is removed at the end.
 *
 * It runs in two phases, so ingest and processing do not compete for the same cores while each
 * is measured: first every event is delivered with the workers stopped (ingest latency and
 * requests per second), then the three workers start and drain the queue (events per second).
 * Finally it checks the ledger against the embedded backend's.
 *
 *   npx tsx scripts/load-test.ts [events]        (default 5000)
 *
 * Latency is measured by the client and includes the local HTTP round trip; the client, the five
 * processes, Redis and PostgreSQL all share the machine's cores, so the numbers are a lower bound
 * for a deployment that spreads them out.
 */
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { createPostgresLedger } from '../src/ledger/postgres.js';
import { createSilentLogger } from '../src/logger.js';
import { openRedisStore } from '../src/store/redis/index.js';
import { appliedOrder, deliverPlan, embeddedReference, percentile, planLoad, summarizeLedger, waitForProcessed } from '../test/distributed/support/load.js';
import { createDataDirectory, processEnvironment, runCli, startCli, stopAll, TEST_SECRET, type CliProcess } from '../test/distributed/support/processes.js';
import { createTestSchema, deleteRedisKeys, REDIS_URL, requireRedis, uniquePrefix } from '../test/distributed/support/services.js';

const events = Number(process.argv[2] ?? 5000);
if (!Number.isInteger(events) || events < 1) throw new Error(`The event count should be a whole number of at least 1, got "${process.argv[2] ?? ''}".`);
const CLIENT_CONCURRENCY = 16;
const LATENCY_PROBE_EVENTS = 500;

await requireRedis();
const schema = await createTestSchema('load');
const keyPrefix = uniquePrefix('load');
const dataDirectory = createDataDirectory();
const env = processEnvironment({ redisUrl: REDIS_URL, databaseUrl: schema.url, keyPrefix }, dataDirectory.path);
const processes: CliProcess[] = [];
const store = await openRedisStore({ url: REDIS_URL, keyPrefix, retentionDays: 7, logger: createSilentLogger() });
const ledger = createPostgresLedger({ url: schema.url, logger: createSilentLogger(), maxConnections: 2 });

try {
  const migrated = await runCli(['migrate'], env);
  if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.output}`);
  const serves = await Promise.all([startCli(['serve'], env), startCli(['serve'], env)]);
  processes.push(...serves);
  const urls = serves.map((serve) => `http://127.0.0.1:${serve.port ?? 0}/webhooks/stripe`) as [string, string];

  const plan = planLoad({ events, duplicateShare: 0.2, seed: 7 });
  console.log(
    `${plan.firstDeliveries.length} events (${plan.distinctEventIds.size} distinct ids), ${plan.simultaneous} delivered to both instances at once, ${plan.redeliveries} delivered again later`,
  );

  // One request at a time first, for latency without client-side queueing.
  const probe = planLoad({ events: LATENCY_PROBE_EVENTS, duplicateShare: 0, seed: 3, tagPrefix: 'probe' });
  const sequential = await deliverPlan({ plan: probe, urls, secret: TEST_SECRET, concurrency: 1 });
  if (sequential.failures.length > 0) throw new Error(`${sequential.failures.length} deliveries failed, first: ${JSON.stringify(sequential.failures[0])}`);
  console.log(`ingest latency, one request at a time: p50 ${percentile(sequential.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(sequential.latenciesMs, 99).toFixed(1)} ms`);

  const report = await deliverPlan({ plan, urls, secret: TEST_SECRET, concurrency: CLIENT_CONCURRENCY });
  if (report.failures.length > 0) throw new Error(`${report.failures.length} deliveries failed, first: ${JSON.stringify(report.failures[0])}`);
  console.log(`ingest latency, ${CLIENT_CONCURRENCY} at a time: p50 ${percentile(report.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(report.latenciesMs, 99).toFixed(1)} ms`);
  console.log(
    `ingest throughput: ${report.requests} requests in ${(report.elapsedMs / 1000).toFixed(1)} s = ${((report.requests * 1000) / report.elapsedMs).toFixed(0)} requests/s with 2 serve processes and ${CLIENT_CONCURRENCY} client connections`,
  );

  const workersStartedAt = performance.now();
  processes.push(...(await Promise.all([startCli(['worker'], env), startCli(['worker'], env), startCli(['worker'], env)])));
  const total = plan.distinctEventIds.size + probe.distinctEventIds.size;
  await waitForProcessed(store.events, total, 600_000);
  const drainMs = performance.now() - workersStartedAt;
  console.log(
    `processing: ${total} events in ${(drainMs / 1000).toFixed(1)} s = ${((total * 1000) / drainMs).toFixed(0)} events/s with 3 worker processes (concurrency 4 each), including their start-up`,
  );

  const distributed = await summarizeLedger(ledger);
  // Some outbox messages depend on the order events were applied in, so the embedded run gets that order.
  const embedded = await embeddedReference(await appliedOrder(ledger, [...probe.firstDeliveries, ...plan.firstDeliveries]));
  const outboxMatches = isDeepStrictEqual(distributed.outbox, embedded.outbox);
  const markersMatch = distributed.appliedMarkers === total;
  const snapshotMatches = isDeepStrictEqual(distributed.snapshot, embedded.snapshot);
  console.log(`applied markers: ${distributed.appliedMarkers} of ${total}; outbox messages: ${distributed.outbox.length} (embedded: ${embedded.outbox.length})`);
  console.log(`ledger equals the embedded backend's: ${snapshotMatches ? 'yes' : 'NO'}; outbox equals it: ${outboxMatches ? 'yes' : 'NO'}`);
  if (!markersMatch || !snapshotMatches || !outboxMatches) process.exitCode = 1;
} finally {
  await stopAll(processes);
  await store.close();
  await ledger.destroy();
  await deleteRedisKeys(keyPrefix);
  await schema.drop();
  dataDirectory.remove();
}
