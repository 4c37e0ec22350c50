import { OUTCOMES } from './events.js';
import type { Tally } from './tally.js';

/** The closing report: counts per outcome, what was skipped, how long, and the failures (capped). */
export function formatSummary(tally: Tally, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = Math.round(tally.events / Math.max(seconds, 0.001));
  const lines = [
    `${tally.messages} messages as ${tally.events} events in ${seconds.toFixed(1)} s (${rate} events/s)`,
    ...OUTCOMES.map((outcome) => `  ${outcome.padEnd(10)} ${tally.outcomes[outcome]}`),
    `  ${'skipped'.padEnd(10)} ${tally.skippedCount}${skippedBreakdown(tally)}`,
    `  ${'unreadable'.padEnd(10)} ${tally.unreadable}`,
  ];
  if (tally.failureCount > 0) {
    const shown = tally.failures.length;
    lines.push(
      shown < tally.failureCount
        ? `Not imported (the first ${shown} of ${tally.failureCount}):`
        : `Not imported (${tally.failureCount}):`,
      ...tally.failures.map(
        ({ line, uuid, outcome, reason }) =>
          `  line ${line}${uuid ? ` (${uuid})` : ''}: ${outcome}${reason ? `: ${reason}` : ''}`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

function skippedBreakdown(tally: Tally): string {
  if (tally.skipped.size === 0) return '';
  const parts = [...tally.skipped].map(([reason, count]) => `${reason} ${count}`);
  return ` (${parts.join(', ')})`;
}
