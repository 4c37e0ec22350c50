import axe from 'axe-core';
import type { Page } from 'playwright-core';

/** WCAG 2.1 A and AA, plus axe's best practices (where `aria-allowed-role` lives). */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

type WithAxe = typeof globalThis & { axe?: typeof axe };

/**
 * The serious and critical violations Deque's axe-core finds in what `page`
 * shows now, one line per element. Axe goes in through the test driver
 * (DevTools' Runtime.evaluate), which the page's CSP does not govern: the
 * page keeps the CSP it is served with, inline scripts blocked.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axe.source);
  const results = await page.evaluate(
    (tags) =>
      (globalThis as WithAxe).axe!.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    TAGS,
  );
  return results.violations
    .filter((rule) => rule.impact === 'serious' || rule.impact === 'critical')
    .flatMap((rule) =>
      rule.nodes.map(
        (node) =>
          `${rule.id} (${rule.impact}) ${node.target.join(' ')}: ${node.failureSummary ?? rule.help}`,
      ),
    );
}
