import { type Outcome, OUTCOMES } from './events.js';

/** At most this many failures are kept to be listed; the rest are only counted. */
export const LISTED_FAILURES = 20;

export interface Failure {
  line: number;
  uuid?: string;
  /** An outcome the service gave, or `unreadable` for a record the CLI could not read. */
  outcome: Exclude<Outcome, 'created' | 'merged' | 'replayed'> | 'unreadable';
  reason: string;
}

/** What happened to the file so far. */
export class Tally {
  readonly outcomes = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    Outcome,
    number
  >;
  readonly skipped = new Map<string, number>();
  readonly failures: Failure[] = [];
  messages = 0;
  events = 0;
  unreadable = 0;
  failureCount = 0;

  skip(reason: string, count = 1): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + count);
  }

  fail(failure: Failure): void {
    this.failureCount += 1;
    if (failure.outcome === 'unreadable') this.unreadable += 1;
    if (this.failures.length < LISTED_FAILURES) this.failures.push(failure);
  }

  get skippedCount(): number {
    let total = 0;
    for (const count of this.skipped.values()) total += count;
    return total;
  }

  /** Everything read was stored or deliberately skipped. */
  get succeeded(): boolean {
    return this.failureCount === 0;
  }
}
