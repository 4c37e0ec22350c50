// The layer budget's measuring: CPU time (process.cpuUsage: user + system, all
// of the process's threads, so GC helpers and the libuv pool count) of a tight
// loop of calls, after a warm-up, in trials that alternate the variants.

/** Trials per variant; the median is reported. */
export const TRIALS = 5;
/** CPU time each trial aims at (at least 200 ms). */
const TRIAL_TARGET_US = 250_000;
/**
 * The warm-up runs batches of doubling size for this long in all (the JIT and
 * the heap's sizing settle over tens of thousands of calls); its last batch
 * sizes the trials.
 */
const WARMUP_US = 400_000;
/**
 * Calls between two turns of the event loop, so buffered writes, socket
 * flushes and nextTicks happen within the trial, as they would between
 * requests, and not after it or never.
 */
const DEFAULT_CALLS_PER_TURN = 1_000;

const gc = (globalThis as { gc?: (options?: { type: 'major' | 'minor' }) => void }).gc;
export const gcExposed = gc !== undefined;

/**
 * Empties the young generation before a trial, so one variant's garbage is
 * not collected on the next one's time. A minor GC, not a full one: a forced
 * full GC shrinks the young generation, and the next ~100,000 calls of an
 * allocating layer then ran several times as slow as in a server under load.
 */
const collectGarbage = (): void => gc?.({ type: 'minor' });

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Variant {
  /** One request's work of the layer; a returned promise is awaited. */
  fn: () => unknown;
  /** Runs before each trial of this variant (and before its warm-up), untimed. */
  setup?: () => void;
  /** Calls between two turns of the event loop (default 1000). */
  callsPerTurn?: number;
}

export interface Result {
  /** µs of CPU per call, median of the trials. */
  median: number;
  /** µs per call of each trial, in the order they ran. */
  trials: number[];
  iterations: number;
}

/** One trial: `iterations` calls of `fn`; µs of CPU per call. */
export async function measure(
  name: string,
  fn: () => unknown,
  iterations: number,
  callsPerTurn = DEFAULT_CALLS_PER_TURN,
): Promise<number> {
  collectGarbage();
  await nextTurn();
  const start = process.cpuUsage();
  for (let done = 0; done < iterations;) {
    const stop = Math.min(iterations, done + callsPerTurn);
    for (; done < stop; done++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    await nextTurn();
  }
  const used = process.cpuUsage(start);
  const perCall = (used.user + used.system) / iterations;
  if (!Number.isFinite(perCall)) throw new Error(`${name}: no CPU time measured`);
  return perCall;
}

/** Warms `fn` up (doubling batches) and returns how many calls make one trial. */
async function warmUp(name: string, variant: Variant): Promise<number> {
  let spent = 0;
  for (let calls = 100; ; calls *= 2) {
    const perCall = await measure(name, variant.fn, calls, variant.callsPerTurn);
    spent += perCall * calls;
    if (spent >= WARMUP_US) return Math.ceil(TRIAL_TARGET_US / perCall);
  }
}

/**
 * Each variant warmed up, then TRIALS rounds that run every variant once, in
 * the same order (ABAB...), so a slow spell of the machine hits all of them.
 */
export async function compare<K extends string>(
  label: string,
  variants: Record<K, Variant>,
): Promise<Record<K, Result>> {
  const names = Object.keys(variants) as K[];
  const iterations = {} as Record<K, number>;
  for (const name of names) {
    variants[name].setup?.();
    iterations[name] = await warmUp(`${label}/${name}`, variants[name]);
  }
  const trials = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let round = 0; round < TRIALS; round++) {
    for (const name of names) {
      variants[name].setup?.();
      const { fn, callsPerTurn } = variants[name];
      trials[name].push(await measure(`${label}/${name}`, fn, iterations[name], callsPerTurn));
    }
  }
  const results = {} as Record<K, Result>;
  for (const name of names) {
    results[name] = {
      median: median(trials[name]),
      trials: trials[name],
      iterations: iterations[name],
    };
    process.stderr.write(
      `${label}/${name}: ${format(results[name].median)} µs ` +
        `(${trials[name].map(format).join(', ')}; ${iterations[name]} calls per trial)\n`,
    );
  }
  return results;
}

/** The median of the per-round differences `a − b`: what `a` adds to `b`, paired by round. */
export function difference(a: Result, b: Result): number {
  return median(a.trials.map((value, round) => value - b.trials[round]));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** µs with about three significant digits. */
export function format(us: number | undefined): string {
  if (us === undefined) return '—';
  const magnitude = Math.abs(us);
  if (magnitude >= 100) return us.toFixed(0);
  if (magnitude >= 10) return us.toFixed(1);
  if (magnitude >= 1) return us.toFixed(2);
  return us.toFixed(3);
}
