/**
 * Opt-out, which carriers require: a received message that is exactly one of
 * these words (case-insensitive, surrounding spaces ignored) blocks sending
 * to its sender from the number it was sent to, until a START or UNSTOP.
 */
export const STOP_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const;
export const START_KEYWORDS = ['START', 'UNSTOP'] as const;

const quoted = [...STOP_KEYWORDS, ...START_KEYWORDS].map((word) => `'${word}'`).join(', ');

/**
 * The keyword messages, as the partial index IDX_messages_opt_out_keywords
 * holds them; a query must repeat this predicate word for word to use it.
 */
export const OPT_OUT_KEYWORD_PREDICATE = `upper(btrim("text")) IN (${quoted})`;

/** A counterpart's standing opt-out from one number: its latest keyword message, if that was a stop. */
export interface OptOutRow {
  keyword: string;
  /** Unix seconds of the keyword message. */
  since: number;
}

/** The keyword a received text is, if it is one (as the index predicate reads it). */
export function optOutKeyword(text: string): string | undefined {
  const word = text.replace(/^ +| +$/g, '').toUpperCase();
  return (STOP_KEYWORDS as readonly string[]).includes(word) ||
    (START_KEYWORDS as readonly string[]).includes(word)
    ? word
    : undefined;
}

export function isStopKeyword(word: string): boolean {
  return (STOP_KEYWORDS as readonly string[]).includes(word);
}
