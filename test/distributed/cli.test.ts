import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerMigrations } from '../../src/ledger/migrations/index.js';
import { createDataDirectory, processEnvironment, runCli } from './support/processes.js';
import { createOwnRedis, createTestSchema, REDIS_URL, requireRedis, type OwnRedis, type TestSchema } from './support/services.js';

describe('migrate and doctor commands', () => {
  const dataDirectory = createDataDirectory();
  let schema: TestSchema;
  let safeRedis: OwnRedis;

  beforeAll(async () => {
    await requireRedis();
    schema = await createTestSchema('cli');
    safeRedis = await createOwnRedis(['--appendonly', 'yes']);
    await safeRedis.start();
  });

  afterAll(async () => {
    await safeRedis?.remove();
    await schema?.drop();
    dataDirectory.remove();
  });

  function environment(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
    return processEnvironment({ redisUrl, databaseUrl: schema.url, keyPrefix: 'cli', extra }, dataDirectory.path);
  }

  it('reports pending migrations, applies them once, then passes', async () => {
    const names = Object.keys(ledgerMigrations);
    const before = await runCli(['doctor'], environment(safeRedis.url));
    expect(before.output).toContain(`FAIL  ledger-migrations`);
    expect(before.output).toContain(`[danger] ${names.length} ledger migration(s) are not applied: ${names.join(', ')};`);
    expect(before.code).toBe(1);

    const first = await runCli(['migrate'], environment(safeRedis.url));
    expect(first.output).toContain(names.map((name) => `applied ${name}\n`).join(''));
    expect(first.code).toBe(0);

    const second = await runCli(['migrate'], environment(safeRedis.url));
    expect(second.output).toContain(`is up to date; all ${names.length} migrations were applied before.`);
    expect(second.code).toBe(0);

    const after = await runCli(['doctor'], environment(safeRedis.url));
    expect(after.output).toContain('Every check passed.');
    expect(after.code).toBe(0);
  }, 60_000);

  it('fails doctor on a redis without persistence', async () => {
    // The shared test Redis runs without AOF or RDB.
    const result = await runCli(['doctor'], environment(REDIS_URL, { ALLOW_UNSAFE_REDIS: 'true' }));

    expect(result.output).toMatch(/FAIL {2}redis-persistence +\[danger\]/);
    expect(result.output).toContain('A production start proceeds anyway, because ALLOW_UNSAFE_REDIS=true.');
    expect(result.code).toBe(1);
  }, 30_000);

  it('warns about a lease shorter than the handler timeout without failing', async () => {
    expect((await runCli(['migrate'], environment(safeRedis.url))).code).toBe(0);
    const result = await runCli(['doctor'], environment(safeRedis.url, { JOB_LEASE_MS: '2000', HANDLER_TIMEOUT_MS: '5000' }));

    expect(result.output).toMatch(/FAIL {2}job-lease +\[warning\] JOB_LEASE_MS is 2000 and HANDLER_TIMEOUT_MS is 5000/);
    expect(result.code).toBe(0);
  }, 30_000);
});
