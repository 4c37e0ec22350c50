/**
 * How a background worker sleeps between rounds: `pause(ms)` waits `ms`, or
 * less when `kick()` (new work, a freed slot, the stop) comes first. A kick
 * while no one waits is kept for the next pause, so none is lost between the
 * end of a round and the start of the wait.
 */
export class WakeSignal {
  private wake?: () => void;
  private kicked = false;

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  pause(ms: number): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.kicked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
