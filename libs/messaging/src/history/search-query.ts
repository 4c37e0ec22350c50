/** The most words and phrases one search takes. */
export const MAX_SEARCH_TERMS = 16;

/** What PostgreSQL's ts_headline puts around a match; HTML-escaped text never holds them. */
export const MATCH_START = '\u0001';
export const MATCH_END = '\u0002';

/** ts_headline's options for a text of up to SHORT_TEXT characters: all of it, every match marked. */
export const WHOLE_TEXT_HEADLINE = `HighlightAll=true, StartSel=${MATCH_START}, StopSel=${MATCH_END}`;

/** ts_headline's options for a longer text: up to 30 words around the matches, in two fragments at most. */
export const FRAGMENTS_HEADLINE = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`;

/** The longest text whose snippet is the whole text: two SMS segments. */
export const SHORT_TEXT = 320;

/** A character that can be part of a searchable word: a letter or a digit in any script. */
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/**
 * A search box's text as a tsquery for `to_tsquery('sms_search', …)`: every
 * term must match. A bare word matches as a prefix (`tomor` finds
 * `tomorrow`, `4821` finds `48213`); a quoted phrase matches its words in
 * order. Each term goes in quoted, so that the text parser, not the tsquery
 * syntax, reads it: `&`, `!`, `:` or parentheses in the text are plain
 * characters, never operators. Undefined when there is no word to look for.
 */
export function toSearchQuery(text: string): string | undefined {
  const terms: string[] = [];
  // "a phrase" or a run of non-blank characters; an unclosed quote runs to the end.
  for (const match of text.matchAll(/"([^"]*)"?|[^\s"]+/g)) {
    const [whole, phrase] = match;
    const isPhrase = phrase !== undefined;
    const words = isPhrase ? phrase : whole;
    if (!WORD_CHARACTER.test(words)) continue;
    const quoted = `'${words.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    terms.push(isPhrase ? quoted : `${quoted}:*`);
  }
  if (terms.length === 0) return undefined;
  return terms.slice(0, MAX_SEARCH_TERMS).join(' & ');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** A ts_headline result as HTML: the text escaped, `<mark>` around each match. */
export function toSnippetHtml(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (character) => HTML_ESCAPES[character])
    .replaceAll(MATCH_START, '<mark>')
    .replaceAll(MATCH_END, '</mark>');
}
