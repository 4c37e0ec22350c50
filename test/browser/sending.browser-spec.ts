import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { issuePhoneKey } from '../factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from '../factories/sms-event.factory.js';
import { startTestApp, type TestApp } from '../setup/test-app.js';
import { type Smsc, startSmsc } from '../support/smsc.js';
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

type WithStatuses = typeof globalThis & { statusesSeen?: Record<string, string[]> };

/**
 * Sending for real from the page, through a real SMPP server on loopback
 * (test/support/smsc.ts): the message shows queued, then sent and delivered
 * as the live stream tells; a message the SMSC refuses shows failed with the
 * SMSC's reason, and Retry sends it again (same uuid) once the SMSC accepts.
 * Screenshots go to test/artifacts/browser/sending/.
 */
describe('Sending from the page through an SMPP gateway (browser)', () => {
  const artifacts = fileURLToPath(new URL('../artifacts/browser/sending/', import.meta.url));
  let app: TestApp;
  let smsc: Smsc;
  let browser: Browser;
  let page: Page;
  let key: string;
  const me = randomPhone();
  const friend = randomPhone();
  const problems: string[] = [];
  const external: string[] = [];
  const admin = () => `Bearer ${app.adminKey}`;
  const national = (phone: string) =>
    `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;

  const shot = (name: string) =>
    page.screenshot({ path: `${artifacts}${name}.png`, fullPage: false });
  const expectAccessible = async (screen: string) =>
    expect.soft(await seriousViolations(page), screen).toEqual([]);

  /** Every data-status a bubble showed, in order, by uuid: what arrived live, however briefly. */
  const watchStatuses = () =>
    page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (globalThis as WithStatuses).statusesSeen = seen;
      const note = (element: Element) => {
        const uuid = element.getAttribute('data-uuid');
        const status = element.getAttribute('data-status');
        if (!uuid || !status) return;
        const list = (seen[uuid] ??= []);
        if (list.at(-1) !== status) list.push(status);
      };
      document.querySelectorAll('li.bubble').forEach(note);
      new MutationObserver((records) => {
        for (const record of records) {
          if (record.type === 'attributes') note(record.target as Element);
          for (const node of record.addedNodes) {
            if (node instanceof Element && node.matches('li.bubble')) note(node);
          }
        }
      }).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-status'],
      });
    });
  const statusesOf = (uuid: string) =>
    page.evaluate((id) => (globalThis as WithStatuses).statusesSeen?.[id] ?? [], uuid);

  const bubble = (text: string) => page.locator('li.bubble.sent').filter({ hasText: text });
  const statusOf = (message: Locator) => message.getAttribute('data-status');

  async function compose(text: string): Promise<{ message: Locator; uuid: string }> {
    const composer = page.getByRole('textbox', { name: `Message to ${national(friend)}` });
    await composer.fill(text);
    await composer.press('Enter');
    const message = bubble(text);
    await message.waitFor();
    return { message, uuid: (await message.getAttribute('data-uuid'))! };
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
    }
    await mkdir(artifacts, { recursive: true });
    smsc = await startSmsc({ systemId: 'browser', password: 'secret12' });
    // Receipts a moment after the submit, so that "sent" shows before "delivered".
    smsc.receiptDelayMs = 400;
    app = await startTestApp({ OUTBOUND_POLL_MS: '50' });
    const issued = await issuePhoneKey(app, [me]);
    key = issued.authorization.replace(/^Bearer /, '');

    const gateway = await request(app.baseUrl)
      .post('/api/gateways')
      .set('Authorization', admin())
      .send({
        provider: 'smpp',
        label: 'Browser test SMSC',
        phones: [me],
        outbound: { url: smsc.url },
      });
    expect(gateway.status, JSON.stringify(gateway.body)).toBe(201);

    await request(app.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', admin())
      .send(
        buildSmsEvent({
          senderPhone: friend,
          receiverPhone: me,
          messageText: 'Can you text me the address?',
          timestamp: Math.floor(Date.now() / 1000) - 60,
        }),
      )
      .expect(201);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = await context.newPage();
    page.on('request', (sent) => {
      const url = sent.url();
      if (!url.startsWith(app.baseUrl) && !url.startsWith('data:')) external.push(url);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(app.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await smsc?.close();
  });

  it('signs in and opens the thread', async () => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A key for one number goes straight to its inbox.
    const thread = page.locator(`button.thread[data-counterpart="${friend}"]`);
    await thread.click();
    await page.getByRole('heading', { name: national(friend) }).waitFor();
    await page.locator('.live-live').waitFor();
    await watchStatuses();
  });

  it('sends through the SMSC: queued, then sent and delivered, live', async () => {
    const text = '12 Main Street, 2nd floor';
    const { message, uuid } = await compose(text);
    await expect.poll(() => statusOf(message), { timeout: 15_000 }).toBe('delivered');
    expect(await message.locator('.status').innerText()).toBe('Delivered');

    // Every step arrived without a reload, in order ("sending" may be too brief to see).
    const seen = (await statusesOf(uuid)).filter((status) => status !== 'sending');
    expect(seen).toEqual(['queued', 'sent', 'delivered']);
    expect(smsc.countByText(text)).toBe(1);
    // SMPP addresses go without the +.
    expect(smsc.submits.at(-1)).toMatchObject({
      source: me.slice(1),
      destination: friend.slice(1),
    });
    await shot('01-delivered');
    await expectAccessible('desktop: a delivered message');
  });

  it('shows a refused message as failed, with the reason, and delivers it on Retry', async () => {
    smsc.mode = 'refuse';
    const text = 'See you at the door';
    const { message, uuid } = await compose(text);
    await expect.poll(() => statusOf(message), { timeout: 15_000 }).toBe('failed');
    expect(await message.locator('.status').innerText()).toBe('Failed');
    const reason = message.locator('.send-error');
    await expect.poll(() => reason.innerText()).toContain('ESME_RINVDSTADR');
    expect(await reason.innerText()).toMatch(/^Not delivered: /);
    await shot('02-failed');
    await expectAccessible('desktop: a failed message');

    smsc.mode = 'accept';
    await message.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => statusOf(message), { timeout: 15_000 }).toBe('delivered');
    expect(await message.getByRole('button').count()).toBe(0);
    expect(await message.innerText()).not.toContain('ESME_RINVDSTADR');
    const seen = (await statusesOf(uuid)).filter((status) => status !== 'sending');
    expect(seen).toEqual(['queued', 'failed', 'queued', 'sent', 'delivered']);
    // Refused once, accepted once: one message at the SMSC, under the same uuid.
    expect(smsc.countByText(text)).toBe(1);
    const stored = await request(app.baseUrl)
      .get(`/api/messages/${uuid}`)
      .set('Authorization', admin())
      .expect(200);
    expect(stored.body).toMatchObject({ status: 'delivered', delivery: { errorCode: null } });
    await shot('03-retried');
  });

  it('blocks sending once the counterpart replies STOP, saying since when', async () => {
    await request(app.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', admin())
      .send(
        buildSmsEvent({
          senderPhone: friend,
          receiverPhone: me,
          messageText: 'STOP',
          timestamp: Math.floor(Date.now() / 1000),
        }),
      )
      .expect(201);
    const notice = page.locator('#opt-out-notice');
    await notice.waitFor();
    expect(await notice.innerText()).toMatch(
      new RegExp(
        `^${national(friend).replace(/[()]/g, '\\$&')} replied STOP on .+: messages to it are blocked until it sends START\\.$`,
      ),
    );
    const composer = page.getByRole('textbox', { name: `Message to ${national(friend)}` });
    expect(await composer.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await shot('04-opted-out');
    await expectAccessible('desktop: an opted-out thread');
  });

  it('made no request to another origin and logged no error', () => {
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
  });
});
