import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toInteger } from '../../src/ledger/columns.js';
import { createPostgresLedger } from '../../src/ledger/postgres.js';
import type { LedgerDatabase } from '../../src/ledger/schema.js';
import { createSilentLogger } from '../../src/logger.js';
import { deliverEvent } from '../../src/samples/deliver.js';
import { findJourney } from '../../src/samples/fixtures.js';
import { instantiateJourney } from '../../src/samples/instantiate.js';
import type { EventRecord } from '../../src/store/ports.js';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.js';
import { createDataDirectory, processEnvironment, runCli, startCli, stopAll, TEST_SECRET, type CliProcess } from './support/processes.js';
import { createTestSchema, deleteRedisKeys, REDIS_URL, requireRedis, uniquePrefix, type TestSchema } from './support/services.js';

/**
 * A worker killed with SIGKILL in the middle of a job. The job is held in the middle without any
 * test-only code in the product: the test inserts the event's "applied" marker in a transaction it
 * keeps open, so the worker's own insert of that marker waits on the row lock.
 */

const WAIT_TIMEOUT_MS = 30_000;

async function waitFor<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting for ${what}.`);
    await sleep(50);
  }
}

describe('worker killed in the middle of a job', () => {
  const processes: CliProcess[] = [];
  const dataDirectory = createDataDirectory();
  const keyPrefix = uniquePrefix('crash');
  let schema: TestSchema;
  let store: RedisStore;
  let ledger: Kysely<LedgerDatabase>;
  let blocker: pg.Client | null = null;
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    schema = await createTestSchema('crash');
    // A short lease and lock let the job return quickly once its worker is gone. A long handler
    // timeout keeps the first worker waiting until it is killed.
    env = processEnvironment(
      { redisUrl: REDIS_URL, databaseUrl: schema.url, keyPrefix, extra: { JOB_LEASE_MS: '2000', LOCK_TTL_MS: '2000', HANDLER_TIMEOUT_MS: '60000' } },
      dataDirectory.path,
    );
    expect((await runCli(['migrate'], env)).code).toBe(0);
    store = await openRedisStore({ url: REDIS_URL, keyPrefix, retentionDays: 7, logger: createSilentLogger() });
    ledger = createPostgresLedger({ url: schema.url, logger: createSilentLogger(), maxConnections: 2 });
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes);
    await blocker?.end().catch(() => undefined);
    await store?.close();
    await ledger?.destroy();
    await deleteRedisKeys(keyPrefix);
    await schema?.drop();
    dataDirectory.remove();
  });

  it('recovers the job and applies it once', async () => {
    const copy = instantiateJourney(findJourney('checkout_card_paid'), 'crash');
    const sample = copy.events.find((event) => event.file.startsWith('checkout.session.completed'));
    if (sample === undefined) throw new Error('The journey checkout_card_paid has no checkout.session.completed event.');
    const eventId = (JSON.parse(sample.raw) as { id: string }).id;

    const serve = await startCli(['serve'], env);
    const firstWorker = await startCli(['worker', '--concurrency', '1'], env);
    processes.push(serve, firstWorker);

    blocker = new pg.Client({ connectionString: schema.url });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query(
      `insert into ledger_applied_events (event_id, event_type, action, account, event_created, applied_at) values ($1, 'test.blocker', 'ignore_event', '', 0, '')`,
      [eventId],
    );

    const delivered = await deliverEvent({ url: `http://127.0.0.1:${serve.port ?? 0}/webhooks/stripe`, secret: TEST_SECRET, delivery: { raw: sample.raw, label: sample.file } });
    expect(delivered.status).toBe(200);

    // The first worker claims the job, and its marker insert waits on the test's row lock.
    await waitFor('the first worker to claim the job', async () => {
      const record = await store.events.get(eventId);
      return record?.status === 'processing' ? record : null;
    });
    // Read from the pool, not the blocking transaction: PostgreSQL keeps one pg_stat_activity
    // snapshot for the length of a transaction.
    await waitFor('the first worker to wait on the marker row lock', async () => {
      const waiting = await sql<{ count: string }>`
        select count(*) as count from pg_stat_activity
        where application_name = 'stripe-pipeline' and wait_event_type = 'Lock' and query ilike '%ledger_applied_events%'
      `.execute(ledger);
      return Number(waiting.rows[0]?.count ?? 0) > 0 ? true : null;
    });

    await firstWorker.stop('SIGKILL');
    expect(await firstWorker.exited).toBe('SIGKILL');

    const secondWorker = await startCli(['worker', '--concurrency', '1'], env);
    processes.push(secondWorker);
    await blocker.query('rollback');

    const processed = await waitFor<EventRecord>('the event to be processed by the second worker', async () => {
      const record = await store.events.get(eventId);
      return record?.status === 'processed' ? record : null;
    });
    expect(processed.attempts).toBe(2);

    const markers = await ledger.selectFrom('ledger_applied_events').select(['event_id', 'event_type']).execute();
    expect(markers).toEqual([{ event_id: eventId, event_type: 'checkout.session.completed' }]);
    const messages = await ledger.selectFrom('ledger_outbox').select(['topic', 'created_event_id']).execute();
    expect(messages).toEqual([{ topic: 'order.paid', created_event_id: eventId }]);
    const orders = await ledger
      .selectFrom('ledger_orders')
      .select((select) => select.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    expect(toInteger(orders.count)).toBe(1);
  }, 90_000);
});
