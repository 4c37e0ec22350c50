import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { type IssuedKey, issuePhoneKey, revokeKey } from '../factories/api-key.factory.js';
import { buildSmsEvent, randomPhone, type SmsEventBody } from '../factories/sms-event.factory.js';
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

/** A +1 number as the page shows numbers of the viewer's own country. */
const national = (phone: string) => `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
/** A +1 number as the page shows it when it knows no home country yet. */
const international = (phone: string) =>
  `+1 ${phone.slice(2, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;

/**
 * The conversations page in Chromium against the real app, on both HTTP
 * platforms: sign in, open a thread, page back through it, send, and see
 * another client's message arrive live. Each step leaves a screenshot in
 * test/artifacts/browser/<platform>/, and each screen, at desktop and phone
 * sizes, is checked with axe-core for serious and critical WCAG 2.1 AA issues.
 */
describe.each(['express', 'fastify'])('The conversations page on %s (browser)', (platform) => {
  const artifacts = fileURLToPath(new URL(`../artifacts/browser/${platform}/`, import.meta.url));
  let app: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let page: Page;
  let key: string;
  let issued: IssuedKey;
  /** Once the key is revoked, Chromium logs the 401s the page then gets, as it should. */
  let revoked = false;
  const me = randomPhone();
  const secondNumber = randomPhone();
  const friend = randomPhone();
  const acquaintances = [randomPhone(), randomPhone(), randomPhone()];
  const external: string[] = [];
  const problems: string[] = [];
  const admin = () => `Bearer ${app.adminKey}`;
  const now = Math.floor(Date.now() / 1000);

  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: `${artifacts}${name}.png`, fullPage: false });

  /** Soft, so one run names the violations of every screen. */
  const expectAccessible = async (screen: string, target: Page = page) =>
    expect.soft(await seriousViolations(target), screen).toEqual([]);

  const importEvents = (events: Array<SmsEventBody & { type: 'sent' | 'received' }>) =>
    request(app.baseUrl)
      .post('/api/messages/import')
      .set('Authorization', admin())
      .send({ events })
      .expect(200);

  async function openPage(
    viewport: { width: number; height: number },
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      colorScheme,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    contexts.push(context);
    const opened = await context.newPage();
    opened.on('request', (sent) => {
      const url = sent.url();
      if (!url.startsWith(app.baseUrl) && !url.startsWith('data:')) external.push(url);
    });
    opened.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (revoked && message.text().includes('401')) return;
      // The number has no outbound gateway: the page is told so (422) and offers to record.
      if (message.text().includes('status of 422')) return;
      problems.push(`console: ${message.text()}`);
    });
    await opened.goto(app.baseUrl);
    return opened;
  }

  async function signIn(target: Page): Promise<void> {
    await target.getByLabel('API key').fill(key);
    await target.getByRole('button', { name: 'Sign in' }).click();
    await target.getByRole('heading', { name: 'Which number?' }).waitFor();
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
    }
    await mkdir(artifacts, { recursive: true });
    app = await startTestApp({ HTTP_ADAPTER: platform });
    issued = await issuePhoneKey(app, [me, secondNumber]);
    key = issued.authorization.replace(/^Bearer /, '');

    // 75 messages with a friend over the last two days (three pages of 30),
    // older single messages with three acquaintances.
    const thread = Array.from({ length: 75 }, (_, index) => {
      const mine = index % 3 === 1;
      return {
        type: mine ? ('sent' as const) : ('received' as const),
        ...buildSmsEvent({
          senderPhone: mine ? me : friend,
          receiverPhone: mine ? friend : me,
          messageText: `Message ${index + 1}${index % 10 === 0 ? ': a longer one, to see how a bubble wraps its text over more than one line' : ''}`,
          timestamp: now - 2 * 86_400 + index * 1_800,
        }),
      };
    });
    const others = acquaintances.map((phone, index) => ({
      type: 'received' as const,
      ...buildSmsEvent({
        senderPhone: phone,
        receiverPhone: me,
        messageText: `Hello from acquaintance ${index + 1}`,
        timestamp: now - 5 * 86_400 - index * 3_600,
      }),
    }));
    await importEvents([...thread, ...others]);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    page = await openPage({ width: 1280, height: 800 });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await app?.close();
  });

  it('is served at / by the app, with the API staying JSON', async () => {
    const index = await request(app.baseUrl).get('/').expect(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    const asset = await request(app.baseUrl).get(script!).expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await request(app.baseUrl).get('/api/nothing-here').expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404 });
    await request(app.baseUrl).get('/nothing-here').expect(404);
  });

  it('signs in with a key and offers its numbers', async () => {
    await page.getByRole('heading', { name: 'Your conversations' }).waitFor();
    await shot('01-sign-in');
    await expectAccessible('desktop: signed out');

    await page.getByLabel('API key').fill('sms_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    // Chromium logs the 401 it was meant to get.
    problems.length = 0;

    await signIn(page);
    await shot('02-choose-number');
    await expectAccessible('desktop: number choice');
    await page.getByRole('button', { name: international(me) }).click();
    const threads = page.locator('button.thread');
    await threads.first().waitFor();
    expect(await threads.count()).toBe(4);
    // Newest activity first, with the last message, its time and the count.
    await expect.poll(() => threads.first().getAttribute('data-counterpart')).toBe(friend);
    const first = await threads.first().innerText();
    expect(first).toContain(national(friend));
    expect(first).toContain('Message 75');
    expect(first).toContain('75 messages');
    await page.locator('.live-live').waitFor();
    await shot('03-conversations');
    await expectAccessible('desktop: thread list');
  });

  it('opens a thread from the keyboard, newest messages at the bottom', async () => {
    await page.locator('button.thread').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: national(friend) }).waitFor();
    const bubbles = page.locator('li.bubble');
    await bubbles.last().waitFor();
    expect(await bubbles.count()).toBe(30);
    expect(await bubbles.last().innerText()).toContain('Message 75');
    // Sent on the right, received on the left, with time, status and segments.
    const sent = page.locator('li.bubble.sent').last();
    expect(await sent.innerText()).toMatch(/Sent\s+1 segment/);
    const received = page.locator('li.bubble.received').last();
    expect(await received.innerText()).toContain('Received');
    const [sentBox, receivedBox] = [await sent.boundingBox(), await received.boundingBox()];
    expect(sentBox!.x).toBeGreaterThan(receivedBox!.x);
    await shot('04-thread');
    await expectAccessible('desktop: open thread');
  });

  it('loads older pages when scrolled back to the top', async () => {
    const bubbles = page.locator('li.bubble');
    const scroller = page.locator('.thread-scroll');
    for (let attempt = 0; attempt < 10 && (await bubbles.count()) < 75; attempt += 1) {
      const before = await bubbles.count();
      await scroller.evaluate((element) => (element.scrollTop = 0));
      await expect.poll(() => bubbles.count(), { timeout: 10_000 }).toBeGreaterThan(before);
    }
    expect(await bubbles.count()).toBe(75);
    const texts = await page.locator('li.bubble .text').allInnerTexts();
    expect(texts.map((text) => /^Message (\d+)/.exec(text)?.[1])).toEqual(
      Array.from({ length: 75 }, (_, index) => String(index + 1)),
    );
    await page.getByText('This is the beginning of your conversation').waitFor();
    await scroller.evaluate((element) => (element.scrollTop = 0));
    await shot('05-older-pages');
  });

  it('sends a message, counting characters and segments before it goes', async () => {
    // A recipient the server's parser refuses, refused in its words.
    const newMessage = page.getByRole('button', { name: 'New message' });
    await newMessage.click();
    await page.getByLabel('To', { exact: true }).fill('hello?');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'must be a phone number, short code or alphanumeric sender ID' })
      .waitFor();
    await expectAccessible('desktop: new message with an error');
    await newMessage.click();

    const composer = page.getByRole('textbox', { name: `Message to ${national(friend)}` });
    await composer.fill('See you at 7 ✓');
    await expect
      .poll(() => page.locator('#composer-count').innerText())
      .toBe('14 characters · 1 segment · UCS-2 · 56 left');
    await composer.fill('x'.repeat(161));
    expect(await page.locator('#composer-count').innerText()).toContain('2 segments · GSM-7');
    await composer.fill('x'.repeat(1601));
    expect(await page.locator('#composer-count').innerText()).toContain('over 1600');
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await shot('06-composer-too-long');
    await expectAccessible('desktop: composer with an error');
    await composer.fill('See you at 7 ✓');
    await shot('06-composer');

    // This number has no outbound gateway: the page says so and offers to record it instead.
    await composer.press('Enter');
    const mine = page.locator('li.bubble.sent').filter({ hasText: 'See you at 7 ✓' });
    await mine.waitFor();
    expect(await composer.inputValue()).toBe('');
    await expect.poll(() => mine.getAttribute('data-status')).toBe('not-sent');
    expect(await mine.innerText()).toContain('has no outbound gateway, so nothing was sent');
    await shot('07-no-outbound-gateway');
    await expectAccessible('desktop: no outbound gateway');
    await mine.getByRole('button', { name: 'Record only' }).click();
    await expect.poll(() => mine.getAttribute('data-status')).toBe('sent');
    expect(await mine.getByRole('button').count()).toBe(0);

    const stored = await request(app.baseUrl)
      .get(
        `/api/phones/${encodeURIComponent(me)}/conversations/${encodeURIComponent(friend)}/messages?limit=1`,
      )
      .set('Authorization', admin())
      .expect(200);
    expect(stored.body.messages[0]).toMatchObject({
      uuid: await mine.getAttribute('data-uuid'),
      text: 'See you at 7 ✓',
      senderPhone: me,
      encoding: 'UCS-2',
    });
    await shot('07-sent');
  });

  it("shows another client's messages as they arrive, without a reload", async () => {
    const reply = buildSmsEvent({
      senderPhone: friend,
      receiverPhone: me,
      messageText: 'Great, see you there!',
      timestamp: Math.floor(Date.now() / 1000),
    });
    await request(app.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', admin())
      .send(reply)
      .expect(201);
    const arrived = page.locator('li.bubble.received').filter({ hasText: 'Great, see you there!' });
    await arrived.waitFor();
    expect(await arrived.innerText()).toContain('Sent, no receipt yet');
    const friendThread = page.locator(`button.thread[data-counterpart="${friend}"]`);
    await expect.poll(() => friendThread.innerText()).toContain('Great, see you there!');
    await expect.poll(() => friendThread.innerText()).toContain('77 messages');

    // The phone reports the receipt of our message: its status changes live.
    const mine = page.locator('li.bubble.sent').filter({ hasText: 'See you at 7 ✓' });
    const uuid = (await mine.getAttribute('data-uuid'))!;
    const sent = await request(app.baseUrl)
      .get(`/api/messages/${uuid}`)
      .set('Authorization', admin())
      .expect(200);
    await request(app.baseUrl)
      .post('/api/receive-sms')
      .set('Authorization', admin())
      .send({
        senderPhone: me,
        receiverPhone: friend,
        messageText: 'See you at 7 ✓',
        timestamp: sent.body.sentAt + 3,
        uuid,
      })
      .expect(201);
    await expect.poll(() => mine.getAttribute('data-status')).toBe('delivered');

    // A new number writing in gets a thread at the top of the list.
    const stranger = randomPhone();
    await request(app.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', admin())
      .send(
        buildSmsEvent({
          senderPhone: stranger,
          receiverPhone: me,
          messageText: 'Who is this?',
          timestamp: Math.floor(Date.now() / 1000) + 1,
        }),
      )
      .expect(201);
    await expect
      .poll(() => page.locator('button.thread').first().getAttribute('data-counterpart'))
      .toBe(stranger);
    await shot('08-live');
  });

  it('fits a phone-sized screen: the list, then the thread', async () => {
    // In the dark scheme, so that axe checks the contrast of both schemes.
    const phone = await openPage({ width: 390, height: 844 }, 'dark');
    await phone.getByRole('heading', { name: 'Your conversations' }).waitFor();
    await expectAccessible('phone, dark: signed out', phone);
    await signIn(phone);
    await expectAccessible('phone, dark: number choice', phone);
    await phone.getByRole('button', { name: international(me) }).click();
    await phone.locator('button.thread').first().waitFor();
    await expectAccessible('phone, dark: thread list', phone);
    await phone.locator(`button.thread[data-counterpart="${friend}"]`).click();
    await phone.locator('li.bubble').last().waitFor();
    expect(await phone.locator('nav.sidebar').isVisible()).toBe(false);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await shot('09-phone-thread', phone);
    await expectAccessible('phone, dark: open thread', phone);
    const composer = phone.getByRole('textbox', { name: `Message to ${national(friend)}` });
    await composer.fill('x'.repeat(1601));
    await phone.locator('#composer-count.too-long').waitFor();
    await expectAccessible('phone, dark: composer with an error', phone);
    await composer.fill('');
    await phone.getByRole('button', { name: 'Back to conversations' }).click();
    await phone.locator('button.thread').first().waitFor();
    await shot('10-phone-list', phone);
  });

  it('signs out by itself once its key is revoked', async () => {
    revoked = true;
    await revokeKey(app, issued.id);
    await page.getByRole('heading', { name: 'Your conversations' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.notice').innerText()).toContain('no longer accepted');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await shot('11-signed-out');
  });

  it('made no request to another origin and logged no error', () => {
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
  });
});
