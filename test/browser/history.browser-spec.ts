import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { issuePhoneKey } from '../factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from '../factories/sms-event.factory.js';
import { startTestApp, type TestApp } from '../setup/test-app.js';
import { seriousViolations } from './accessibility.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Search and export from the page, on both HTTP platforms: a search finds an
 * old message, its result opens the thread at that message (loading the
 * older pages it takes), and the download buttons save the number's history.
 * Screenshots go to test/artifacts/browser/history-<platform>/.
 */
describe.each(['express', 'fastify'])(
  'Search and export on the page on %s (browser)',
  (platform) => {
    const artifacts = fileURLToPath(
      new URL(`../artifacts/browser/history-${platform}/`, import.meta.url),
    );
    let app: TestApp;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];
    const me = randomPhone();
    const friend = randomPhone();
    const now = Math.floor(Date.now() / 1000);
    let needle = '';

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
      }
      await mkdir(artifacts, { recursive: true });
      app = await startTestApp({ HTTP_ADAPTER: platform });
      const key = (await issuePhoneKey(app, [me])).authorization.replace(/^Bearer /, '');

      // 90 messages (three pages of 30); the one to find is the second oldest.
      const events = Array.from({ length: 90 }, (_, index) => {
        const mine = index % 2 === 0;
        const event = buildSmsEvent({
          senderPhone: mine ? me : friend,
          receiverPhone: mine ? friend : me,
          messageText:
            index === 1 ? 'Meet at the Café tomorrow, 5 < 6 & bring 48213' : `Note ${index}`,
          timestamp: now - 3 * 86_400 + index * 600,
        });
        if (index === 1) needle = event.uuid;
        return { type: mine ? ('sent' as const) : ('received' as const), ...event };
      });
      await request(app.baseUrl)
        .post('/api/messages/import')
        .set('Authorization', `Bearer ${app.adminKey}`)
        .send({ events })
        .expect(200);

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        locale: 'en-US',
        timezoneId: 'UTC',
        acceptDownloads: true,
      });
      page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      await page.goto(app.baseUrl);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // A key for one number opens that number's inbox directly.
      await page.locator('button.thread').first().waitFor();
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    it('finds an old message by a folded prefix, with the match marked', async () => {
      await page.getByRole('searchbox', { name: 'Search messages' }).fill('cafe tomor');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const hit = page.locator('button.search-hit');
      await hit.first().waitFor();
      expect(await hit.count()).toBe(1);
      expect(await hit.getAttribute('data-uuid')).toBe(needle);
      // The server's snippet: the text escaped, the matches marked, nothing else as markup.
      expect(await hit.locator('.snippet mark').allInnerTexts()).toEqual(['Café', 'tomorrow']);
      expect(await hit.locator('.snippet').innerText()).toContain('tomorrow, 5 < 6 & bring 48213');
      await page.screenshot({ path: `${artifacts}01-search.png` });
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('searchbox', { name: 'Search messages' }).fill('nothing-like-this');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'No messages match' }).waitFor();
    });

    it('opens the thread at the message a result names, loading older pages to reach it', async () => {
      await page.getByRole('searchbox', { name: 'Search messages' }).fill('48213');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('button.search-hit').first().click();
      const bubble = page.locator(`li.bubble[data-uuid="${needle}"]`);
      await bubble.waitFor({ timeout: 15_000 });
      await expect.poll(() => bubble.getAttribute('class')).toContain('focused');
      expect(await page.locator('li.bubble').count()).toBeGreaterThan(30);
      expect(await bubble.isVisible()).toBe(true);
      const box = await bubble.boundingBox();
      const scroller = await page.locator('.thread-scroll').boundingBox();
      expect(box!.y).toBeGreaterThanOrEqual(scroller!.y);
      expect(box!.y + box!.height).toBeLessThanOrEqual(scroller!.y + scroller!.height);
      await page.screenshot({ path: `${artifacts}02-result-opened.png` });
    });

    it('downloads the whole history as CSV and as NDJSON', async () => {
      const [csvDownload] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      expect(csvDownload.suggestedFilename()).toBe(`sms-${me}.csv`);
      const csv = await readFile(await csvDownload.path(), 'utf8');
      const rows = csv.split('\r\n').filter(Boolean);
      expect(rows[0]).toBe(
        'uuid,senderPhone,receiverPhone,text,direction,status,sentAt,receivedAt,timestamp,encoding,segments',
      );
      expect(rows).toHaveLength(91);
      expect(rows[2]).toContain('Meet at the Café tomorrow, 5 < 6 & bring 48213');

      const [ndjsonDownload] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download NDJSON' }).click(),
      ]);
      const lines = (await readFile(await ndjsonDownload.path(), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { uuid: string; direction: string });
      expect(lines).toHaveLength(90);
      expect(lines[1]).toMatchObject({ uuid: needle, direction: 'received' });
      expect(problems).toEqual([]);
    });
  },
);
