/**
 * Time that moves only when a test advances it. Pass `clock.now` wherever a `Clock` is expected.
 * It is an arrow function, so it keeps working when detached from the object.
 */
export class ManualClock {
  private current: number;

  /** Starts at `startMs` (epoch milliseconds). The default is a fixed instant, so runs repeat exactly. */
  constructor(startMs: number = Date.UTC(2026, 7, 1, 12, 0, 0)) {
    this.current = startMs;
  }

  readonly now = (): number => this.current;

  /** Moves time forward by `ms`. Time never moves backwards. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`ms should be a finite number of at least 0, got ${ms}`);
    }
    this.current += ms;
  }
}
