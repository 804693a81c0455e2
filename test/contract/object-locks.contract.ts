import { describe, expect, it } from 'vitest';
import type { LockHandle, ObjectLocks } from '../../src/store/ports.js';
import { timeUnitOf, useBackend, type BackendFactory } from './backend.js';

async function acquireOrFail(locks: ObjectLocks, key: string, ttlMs: number): Promise<LockHandle> {
  const handle = await locks.acquire(key, ttlMs);
  if (handle === null) throw new Error(`Expected to acquire the lock ${key}, but acquire resolved null.`);
  return handle;
}

/** Object lock behaviour every backend must show. */
export function describeObjectLocksContract(name: string, factory: BackendFactory): void {
  describe(`${name}: object locks`, () => {
    const backend = useBackend(factory);
    const unit = (): number => timeUnitOf(backend());

    it('acquire returns a handle for the key', async () => {
      const handle = await backend().locks.acquire('sub_1QfakeA', 30 * unit());

      expect(handle?.key).toBe('sub_1QfakeA');
    });

    it('a held key cannot be acquired', async () => {
      const { locks } = backend();
      await acquireOrFail(locks, 'sub_1QfakeA', 30 * unit());

      expect(await locks.acquire('sub_1QfakeA', 30 * unit())).toBeNull();
    });

    it('different keys lock independently', async () => {
      const { locks } = backend();
      await acquireOrFail(locks, 'sub_1QfakeA', 30 * unit());

      expect(await locks.acquire('sub_1QfakeB', 30 * unit())).not.toBeNull();
    });

    it('concurrent acquires give one handle', async () => {
      const { locks } = backend();

      const handles = await Promise.all(Array.from({ length: 10 }, () => locks.acquire('cus_1QfakeC', 30 * unit())));

      expect(handles.filter((handle) => handle !== null)).toHaveLength(1);
    });

    it('release lets the key be taken again', async () => {
      const { locks } = backend();
      const handle = await acquireOrFail(locks, 'sub_1QfakeA', 30 * unit());

      await handle.release();

      expect(await locks.acquire('sub_1QfakeA', 30 * unit())).not.toBeNull();
    });

    it('an expired lock can be taken over', async () => {
      const { locks } = backend();
      await acquireOrFail(locks, 'sub_1QfakeA', 3 * unit());

      await backend().sleepOrAdvance(4 * unit());

      expect(await locks.acquire('sub_1QfakeA', 30 * unit())).not.toBeNull();
    });

    it('a stale holder cannot release the new lock', async () => {
      const { locks } = backend();
      const stale = await acquireOrFail(locks, 'sub_1QfakeA', 3 * unit());
      await backend().sleepOrAdvance(4 * unit());
      const current = await acquireOrFail(locks, 'sub_1QfakeA', 30 * unit());

      await stale.release();

      expect(await locks.acquire('sub_1QfakeA', 30 * unit())).toBeNull();
      expect(await current.extend(30 * unit())).toBe(true);
    });

    it('extend works only for the holder', async () => {
      const { locks } = backend();
      const stale = await acquireOrFail(locks, 'sub_1QfakeA', 3 * unit());
      await backend().sleepOrAdvance(4 * unit());
      const current = await acquireOrFail(locks, 'sub_1QfakeA', 30 * unit());

      expect(await stale.extend(30 * unit())).toBe(false);
      expect(await current.extend(30 * unit())).toBe(true);
    });

    it('extend keeps the lock from expiring', async () => {
      const { locks } = backend();
      const handle = await acquireOrFail(locks, 'sub_1QfakeA', 3 * unit());

      await backend().sleepOrAdvance(2 * unit());
      expect(await handle.extend(3 * unit())).toBe(true);
      await backend().sleepOrAdvance(2 * unit());

      expect(await locks.acquire('sub_1QfakeA', 30 * unit())).toBeNull();
    });
  });
}
