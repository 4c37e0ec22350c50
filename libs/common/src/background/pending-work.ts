/**
 * The work a background worker started and did not await (a hand-over, an
 * attempt), so that its shutdown can wait for all of it. A failure is
 * reported through `onError` and never becomes an unhandled rejection.
 */
export class PendingWork {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onError: (error: Error) => void) {}

  add(work: Promise<void>): void {
    const tracked = work.catch((error: Error) => this.onError(error));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  /** Resolves when everything added so far has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
