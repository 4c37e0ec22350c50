import { MATCH_END, MATCH_START, toSearchQuery, toSnippetHtml } from './search-query.js';

describe('toSearchQuery', () => {
  it('makes every bare word a prefix and every quoted phrase a phrase, all required', () => {
    expect(toSearchQuery('cafe tomor')).toBe("'cafe':* & 'tomor':*");
    expect(toSearchQuery('"see you" 4821')).toBe("'see you' & '4821':*");
  });

  it('takes an unclosed quote as a phrase to the end', () => {
    expect(toSearchQuery('late "see you')).toBe("'late':* & 'see you'");
  });

  it('quotes what the tsquery syntax would read as operators', () => {
    expect(toSearchQuery("it's a&b !x (y) \\z:*")).toBe(
      "'it''s':* & 'a&b':* & '!x':* & '(y)':* & '\\\\z:*':*",
    );
  });

  it('skips terms without a letter or a digit, and has nothing to say for none', () => {
    expect(toSearchQuery('!!! ok ???')).toBe("'ok':*");
    expect(toSearchQuery('  "" ... ')).toBeUndefined();
    expect(toSearchQuery('Привет 東京')).toBe("'Привет':* & '東京':*");
  });

  it('keeps at most 16 terms', () => {
    const words = Array.from({ length: 20 }, (_, index) => `w${index}`).join(' ');
    expect(toSearchQuery(words)?.split(' & ')).toHaveLength(16);
  });
});

describe('toSnippetHtml', () => {
  it('escapes the text and marks the matches', () => {
    expect(toSnippetHtml(`a <b> & ${MATCH_START}"Café"${MATCH_END} 'x'`)).toBe(
      'a &lt;b&gt; &amp; <mark>&quot;Café&quot;</mark> &#39;x&#39;',
    );
  });
});
