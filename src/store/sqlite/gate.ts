/**
 * Serialises every use of one better-sqlite3 handle. The embedded backend shares one handle
 * between the event store (synchronous statements) and the Kysely ledger, whose transactions stay
 * open across `await`s. Without the gate, a store write issued while a ledger transaction is open
 * would run inside that transaction and be rolled back with it, and the store's own
 * `BEGIN IMMEDIATE` would fail as a nested transaction.
 */
export class SqliteGate {
  private tail: Promise<void> = Promise.resolve();

  /** Waits for every earlier holder, then resolves a function that lets the next one in. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => released);
    return previous.then(() => release);
  }

  /** Runs `work` while holding the gate. */
  async run<T>(work: () => T | Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}
