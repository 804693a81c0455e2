/**
 * Sleeps between polls that `wakeAll` can cut short, so a loop that is waiting for work starts at
 * once when work arrives or when it is told to stop.
 */
export class IdleWait {
  private readonly sleepers = new Set<() => void>();

  /** Resolves after `ms`, or earlier when `wakeAll` is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Ends every sleep in progress. */
  wakeAll(): void {
    for (const wake of this.sleepers) wake();
  }
}
