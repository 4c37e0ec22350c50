import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { issuePhoneKey } from '../factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from '../factories/sms-event.factory.js';
import { startTestApp, type TestApp } from '../setup/test-app.js';
import { seriousViolations } from './accessibility.js';

const CHROMIUM = '/usr/bin/chromium';
const SMS_BACKUP = fileURLToPath(new URL('../fixtures/import/sms-backup.xml', import.meta.url));
/** The fixture's people: the counterparts of the phone it is imported into. */
const BOB = '+12025550178';
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
 * Search, export and import from the page, on both HTTP platforms: a search
 * finds an old message, its result opens the thread at that message (loading
 * the older pages it takes), the download buttons save the number's history,
 * and a file chosen to import (a backup, an export) lands in the threads, once.
 * Screenshots go to test/artifacts/browser/history-<platform>/.
 */
describe.each(['express', 'fastify'])(
  'Search, export and import on the page on %s (browser)',
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
    /** The NDJSON the page saved, to import again. */
    let downloaded = '';

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
      // Under the name the page gave it, which says its format to the import.
      downloaded = `${artifacts}${ndjsonDownload.suggestedFilename()}`;
      await ndjsonDownload.saveAs(downloaded);
      const lines = (await readFile(downloaded, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { uuid: string; direction: string });
      expect(lines).toHaveLength(90);
      expect(lines[1]).toMatchObject({ uuid: needle, direction: 'received' });
      expect(problems).toEqual([]);
    });

    /** Chooses `file` in the import control and waits for the summary: its counts by name. */
    async function importThroughPage(file: string): Promise<Record<string, string>> {
      const dismiss = page.locator('.import-summary').getByRole('button', { name: 'Dismiss' });
      if ((await dismiss.count()) > 0) await dismiss.click();
      await page.getByLabel('Import a file').setInputFiles(file);
      const summary = page.locator('.import-summary');
      await summary.waitFor({ timeout: 30_000 });
      const counts: Record<string, string> = {};
      for (const row of await summary.locator('.import-counts > div').all()) {
        counts[await row.locator('dt').innerText()] = await row.locator('dd').innerText();
      }
      return counts;
    }

    it('imports an SMS Backup & Restore file into the open number, then finds it all replayed', async () => {
      expect(await importThroughPage(SMS_BACKUP)).toMatchObject({
        created: '3',
        replayed: '0',
        skipped: '3 (draft 1, failed 1, mms 1)',
        unreadable: '1',
      });
      const summary = page.locator('.import-summary');
      expect(await summary.innerText()).toContain(
        'Line 18: unreadable: date must be milliseconds since 1970',
      );
      await page.screenshot({ path: `${artifacts}03-imported.png` });
      expect(await seriousViolations(page)).toEqual([]);

      // The new threads are listed without a reload; the backup's messages are in Bob's.
      const bob = page.locator(`button.thread[data-counterpart="${BOB}"]`);
      await bob.waitFor();
      await page.locator('button.thread[data-counterpart="72345"]').waitFor();
      await bob.click();
      const texts = page.locator('li.bubble .text');
      await expect
        .poll(() => texts.allInnerTexts())
        .toEqual(['Running 10 minutes late', 'No worries 😀\nSee you at 7 & bring "the" book']);
      expect(await page.locator('li.bubble.sent .text').innerText()).toContain('No worries');
      await page.screenshot({ path: `${artifacts}04-imported-thread.png` });

      expect(await importThroughPage(SMS_BACKUP)).toMatchObject({
        created: '0',
        merged: '0',
        replayed: '3',
      });
    });

    it("imports an NDJSON export (its own side only for a phone key), and the page's own download as all replayed", async () => {
      const carol = randomPhone();
      const row = (overrides: Record<string, unknown>) => ({
        uuid: null,
        senderPhone: me,
        receiverPhone: carol,
        text: 'Dinner at 8?',
        direction: 'sent',
        status: 'sent',
        sentAt: now - 7200,
        receivedAt: null,
        timestamp: now - 7200,
        encoding: 'GSM-7',
        segments: 1,
        ...overrides,
      });
      const file = `${artifacts}export-from-elsewhere.ndjson`;
      await writeFile(
        file,
        [
          // Delivered: the receiver's report is Carol's to make, not this key's.
          row({ uuid: '7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', receivedAt: now - 7197 }),
          row({
            senderPhone: carol,
            receiverPhone: me,
            text: 'Sure 👍',
            direction: 'received',
            status: 'received',
            sentAt: null,
            receivedAt: now - 7100,
            timestamp: now - 7100,
            encoding: 'UCS-2',
          }),
        ]
          .map((each) => `${JSON.stringify(each)}\n`)
          .join(''),
      );
      expect(await importThroughPage(file)).toMatchObject({
        created: '2',
        skipped: "1 (the other party's report (this key does not act for it) 1)",
        unreadable: '0',
      });
      await page.locator(`button.thread[data-counterpart="${carol}"]`).click();
      await expect
        .poll(() => page.locator('li.bubble .text').allInnerTexts())
        .toEqual(['Dinner at 8?', 'Sure 👍']);
      expect(await importThroughPage(file)).toMatchObject({ created: '0', replayed: '2' });

      // What the page downloaded goes back in unchanged: every message known already.
      expect(await importThroughPage(downloaded)).toMatchObject({
        created: '0',
        merged: '0',
        replayed: '90',
        unreadable: '0',
      });
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });
  },
);
