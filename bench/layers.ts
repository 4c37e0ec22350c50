// The layer budget: the CPU each layer of the request path costs per request,
// measured on the built app's own code (dist/apps/api) in microbenchmarks,
// next to the library each one replaced where that still runs. Prints a
// Markdown table (see bench/README.md, "Layer budget").
//
//   npm run bench:layers     (builds the app and bench/, then runs this with --expose-gc)
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { ValidationPipe } from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants.js';
import { type HttpAdapterHost, Reflector } from '@nestjs/core';
import { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
import { ThrottlerGuard, ThrottlerStorageService } from '@nestjs/throttler';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import fastJson from 'fast-json-stringify';
import helmet from 'helmet';
import pino, { type LoggerOptions } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { lastValueFrom, type Observable, throwError, timeout } from 'rxjs';
import { type App, type FinishedRequest, loadApp } from './lib/layers/app.js';
import { compare, difference, format, gcExposed, TRIALS } from './lib/layers/harness.js';
import {
  CONVERSATION_ROUTE,
  discardingSocket,
  finish,
  httpContext,
  incomingRequest,
  PHONE,
  serverResponse,
} from './lib/layers/http.js';

interface Row {
  layer: string;
  what: string;
  /** µs per request of the app's code. */
  now?: number;
  /** µs per request of what it replaced. */
  before?: number;
  notes: string;
}

const TTL_MS = 60_000;
/** THROTTLE_LIMIT's default: a key at its limit has this many hits in the window. */
const DEFAULT_LIMIT = 600;
const REQUEST_TIMEOUT_MS = 15_000;
const COUNTERPART = '+12025550178';

/** The route every layer serves: get-conversation, with its real auth rule. */
function conversationRoute(app: App) {
  const { ActsFor } = app.auth;
  class MessagesController {
    @ActsFor({ param: 'phone_number' })
    getConversation(): void {}
  }
  return { controller: MessagesController, handler: MessagesController.prototype.getConversation };
}

const adapterHost = {
  httpAdapter: {
    setHeader(response: Record<string, unknown>, name: string, value: string) {
      response[name] = value;
    },
  },
} as unknown as HttpAdapterHost;

/** A response for the guards: headers as properties, like the adapter stub above. */
function responseStub(): object {
  return {
    setHeader(this: Record<string, unknown>, name: string, value: unknown) {
      this[name] = value;
    },
  };
}

/** Date.now() as a key making `hitsPerWindow` requests per TTL_MS sees it: one step per `tick()`. */
function steadyClock(hitsPerWindow: number) {
  const realNow = Date.now;
  let now = realNow();
  return {
    tick: () => void (now += TTL_MS / hitsPerWindow),
    install: () => void (Date.now = () => now),
    restore: () => void (Date.now = realNow),
  };
}

async function authAndRateLimit(app: App): Promise<Row[]> {
  const { auth, common } = app;
  // The `auth` configuration namespace's values, as the app injects them.
  const config = { throttleTtlMs: TTL_MS, throttleLimit: 1e9, authFailureLimit: 10 };
  const storage = new auth.RateLimitStorage();
  const phones = new common.PhoneNumbers('US');
  // Like the bench's: 40 characters.
  const adminSecret = randomBytes(30).toString('base64url');
  const adminKey = new auth.AdminKey(adminSecret);
  const phoneSecret = auth.generateApiKeySecret();
  // The real ApiKeysService over a repository stub: the phone key is read once,
  // then served from its cache (and read again, through the stub, every 2 s).
  const keyRow = {
    id: 'phone-key',
    keyHash: auth.hashApiKey(phoneSecret),
    phones: [PHONE],
    revokedAt: null,
  };
  const keys = new auth.ApiKeysService(
    { createQueryBuilder: () => ({ where: () => ({ getOne: () => Promise.resolve(keyRow) }) }) },
    phones,
  );
  assert.equal((await keys.findPrincipal(phoneSecret))?.keyId, 'phone-key');
  const keyRateLimit = new auth.KeyRateLimit(storage, adapterHost, config);
  const guard = new auth.AuthGuard(
    new Reflector(),
    adminKey,
    keys,
    new auth.AuthFailureLimiter(storage, config),
    keyRateLimit,
    phones,
    adapterHost,
  );
  const { controller, handler } = conversationRoute(app);
  const contextFor = (secret: string) =>
    httpContext(
      handler,
      controller,
      {
        headers: { authorization: `Bearer ${secret}` },
        params: { phone_number: PHONE },
        ip: '127.0.0.1',
      },
      responseStub(),
    );
  const adminContext = contextFor(adminSecret);
  const phoneContext = contextFor(phoneSecret);
  // The first call hashes the admin key; from then on it is remembered.
  assert.equal(guard.canActivate(adminContext), true);
  assert.equal(guard.canActivate(phoneContext), true);

  const guardRuns = await compare('auth', {
    admin: { fn: () => guard.canActivate(adminContext) },
    phone: { fn: () => guard.canActivate(phoneContext) },
    adminKeyMiss: { fn: () => adminKey.matches(phoneSecret) },
  });

  // What KeyRateLimit replaced: @nestjs/throttler's guard with the app's old
  // options (auth.module.ts before f6fc32d), over the throttler's own
  // in-memory storage (replaced before that, in e535caa).
  const throttlerStorage = new ThrottlerStorageService();
  const throttlerGuard = new ThrottlerGuard(
    {
      throttlers: [{ name: 'default', ttl: TTL_MS, limit: 1e9 }],
      getTracker: (request: object) => `key:${auth.principalOf(request)?.keyId ?? 'none'}`,
      generateKey: (_context, tracker: string, name: string) => `${name}:${tracker}`,
    },
    throttlerStorage,
    new Reflector(),
  );
  await throttlerGuard.onModuleInit();
  const request = adminContext.switchToHttp().getRequest<object>();
  auth.attachPrincipal(request, auth.ADMIN_PRINCIPAL);
  const response = adminContext.switchToHttp().getResponse<object>();
  assert.equal(await throttlerGuard.canActivate(adminContext), true);

  const busy = 10_000;
  const clocks = {
    guard: steadyClock(DEFAULT_LIMIT),
    atLimit: steadyClock(DEFAULT_LIMIT),
    busy: steadyClock(busy),
  };
  const counterOnly = new ThrottlerStorageService();
  const busyCounter = new ThrottlerStorageService();
  const increment = (store: ThrottlerStorageService, key: string) =>
    store.increment(key, TTL_MS, 1e9, TTL_MS, 'default');
  const variants = {
    keyRateLimit: { fn: () => keyRateLimit.consume(auth.ADMIN_PRINCIPAL, response) },
    throttlerGuard: {
      setup: clocks.guard.install,
      fn: () => {
        clocks.guard.tick();
        return throttlerGuard.canActivate(adminContext);
      },
    },
    counter: { fn: () => storage.hit('default:key:admin', TTL_MS, 1e9, TTL_MS, 'default') },
    throttlerCounter: {
      setup: clocks.atLimit.install,
      fn: () => {
        clocks.atLimit.tick();
        return increment(counterOnly, 'default:key:admin');
      },
    },
    throttlerCounterBusy: {
      setup: clocks.busy.install,
      fn: () => {
        clocks.busy.tick();
        return increment(busyCounter, 'default:key:admin');
      },
    },
  };
  let limits;
  try {
    // Fill each window to its steady state first.
    for (const [name, hits] of [
      ['throttlerGuard', DEFAULT_LIMIT],
      ['throttlerCounter', DEFAULT_LIMIT],
      ['throttlerCounterBusy', busy],
    ] as const) {
      variants[name].setup();
      for (let i = 0; i < hits; i++) await variants[name].fn();
    }
    limits = await compare('rate limit', variants);
    // Each window held its steady number of hits throughout.
    for (const [store, hits] of [
      [throttlerStorage, DEFAULT_LIMIT],
      [counterOnly, DEFAULT_LIMIT],
      [busyCounter, busy],
    ] as const) {
      const live = store.storage.get('default:key:admin')?.totalHits.get('default') ?? 0;
      assert.ok(Math.abs(live - hits) <= 1, `${live} hits in the window, expected ${hits}`);
    }
  } finally {
    clocks.guard.restore();
    throttlerStorage.onApplicationShutdown();
    counterOnly.onApplicationShutdown();
    busyCounter.onApplicationShutdown();
    await storage.onApplicationShutdown();
  }

  return [
    {
      layer: 'auth',
      what: '`AuthGuard.canActivate`, admin key (already seen), `@ActsFor` route, rate limit included',
      now: guardRuns.admin.median,
      notes:
        'Synchronous: no promise. The guard it replaced (a SHA-256 of the key per request, reflection per request, `ThrottlerGuard`) is not in the build; its rate-limit part is the next rows.',
    },
    {
      layer: 'auth',
      what: 'the same with a phone key (cached principal), which is checked against the number',
      now: guardRuns.phone.median,
      notes: `Includes ${format(guardRuns.adminKeyMiss.median)} µs for \`AdminKey.matches\` hashing the phone key (SHA-256) to rule out the admin key, on every request.`,
    },
    {
      layer: 'rate limit',
      what: '`KeyRateLimit.consume`: fixed-window counter + 3 `X-RateLimit-*` headers',
      now: limits.keyRateLimit.median,
      before: limits.throttlerGuard.median,
      notes: `Before: \`ThrottlerGuard.canActivate\` (the app's old options) over \`ThrottlerStorageService\`, ${DEFAULT_LIMIT} hits in the window (a key at the default limit; clock stepped ${TTL_MS / DEFAULT_LIMIT} ms per call).`,
    },
    {
      layer: 'rate limit',
      what: 'the counter alone: `RateLimitStorage.hit` vs `ThrottlerStorageService.increment`',
      now: limits.counter.median,
      before: limits.throttlerCounter.median,
      notes: `${DEFAULT_LIMIT} hits in the window. At ${busy.toLocaleString('en-US')} (a key at ~170 req/s) the throttler's storage takes ${format(limits.throttlerCounterBusy.median)} µs: it filters one timestamp per hit on every request; the fixed window is O(1).`,
    },
  ];
}

function finishedRequest(): FinishedRequest {
  return {
    requestId: randomUUID(),
    method: 'GET',
    route: CONVERSATION_ROUTE,
    status: 200,
    durationSeconds: 0.00183,
    aborted: false,
  };
}

async function log(app: App): Promise<Row[]> {
  const { loggingParams, logFinishedRequest } = app.observability;
  const [options, destination] = loggingParams({
    level: 'info',
    pretty: false,
    destination: pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }),
  }).pinoHttp;
  const logger = pino(options, destination);
  // logging.ts before f6fc32d: pino-http's middleware on every request, the
  // line written synchronously.
  const oldOptions: LoggerOptions = {
    level: 'info',
    serializers: { req: () => undefined, err: pino.stdSerializers.err },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        'authorization',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const oldLogger = pino(oldOptions, pino.destination({ dest: '/dev/null', sync: true }));
  const finished = finishedRequest();
  const request = { id: finished.requestId };
  const runs = await compare('log', {
    // One 16 KB write completes per turn of the event loop: a turn every 50 lines keeps up.
    now: { fn: () => logFinishedRequest(logger, finished), callsPerTurn: 50 },
    before: {
      fn: () => {
        // pino-http (quietReqLogger): a child with the request id, and one with the request.
        oldLogger.child({ requestId: request.id }).child({ req: request });
        logFinishedRequest(oldLogger, finished);
      },
    },
  });
  return [
    {
      layer: 'log',
      what: '`logFinishedRequest`: the one JSON line per request, app logger (async, buffered 4 KB) to /dev/null',
      now: runs.now.median,
      before: runs.before.median,
      notes:
        "Before: pino-http's two child loggers per request, and the line on a synchronous destination (one `write` per line) with `isoTime`. Writing to a pipe or a terminal costs more than to /dev/null.",
    },
  ];
}

async function metrics(app: App): Promise<Row[]> {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const histogram = new app.observability.RequestDurationHistogram(bounds, new Registry());
  const promHistogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern and final status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: bounds,
    registers: [new Registry()],
  });
  const runs = await compare('metrics', {
    now: { fn: () => histogram.observe('GET', CONVERSATION_ROUTE, 200, 0.00183) },
    before: {
      fn: () =>
        promHistogram.observe(
          { method: 'GET', route: CONVERSATION_ROUTE, status_code: '200' },
          0.00183,
        ),
    },
  });
  return [
    {
      layer: 'metrics',
      what: '`RequestDurationHistogram.observe`: one request into `http_request_duration_seconds`',
      now: runs.now.median,
      before: runs.before.median,
      notes: "Before: prom-client's `Histogram.observe({method, route, status_code}, s)`.",
    },
  ];
}

async function headers(app: App): Promise<Row[]> {
  const { securityHeaders, HELMET_OPTIONS } = app.common;
  const socket = discardingSocket();
  const request = incomingRequest(socket);
  const headerMap = securityHeaders();
  const helmetMiddleware = helmet(HELMET_OPTIONS);
  const body = '{"messages":[]}';
  // What an answer carries anyway, so the baseline is shaped like the app's responses.
  const otherHeaders = new Map([
    ['X-Request-Id', randomUUID()],
    ['X-RateLimit-Limit', '600'],
    ['X-RateLimit-Remaining', '599'],
    ['X-RateLimit-Reset', '60'],
  ]);
  const respond = (addHeaders: (response: ServerResponse) => void) => () => {
    const response = serverResponse(request, socket);
    addHeaders(response);
    for (const [name, value] of otherHeaders) response.setHeader(name, value);
    finish(response, socket, body);
  };
  const runs = await compare('headers', {
    bare: { fn: respond(() => {}) },
    now: { fn: respond((response) => response.setHeaders(headerMap)) },
    loop: {
      fn: respond((response) => {
        for (const [name, value] of headerMap) response.setHeader(name, value);
      }),
    },
    before: { fn: respond((response) => helmetMiddleware(request, response, () => undefined)) },
  });
  return [
    {
      layer: 'headers',
      what: `the ${headerMap.size} security headers: \`response.setHeaders(map)\` + writing them, on a real \`ServerResponse\``,
      now: difference(runs.now, runs.bare),
      before: difference(runs.before, runs.bare),
      notes: `Each minus the same response without them (${format(runs.bare.median)} µs: a \`ServerResponse\` with X-Request-Id, the 3 X-RateLimit-* and Content-Type, its header block and a small body written to a socket that discards it). Before: helmet's middleware per response. The same headers by a \`setHeader\` loop instead of \`setHeaders\`: ${format(difference(runs.loop, runs.bare))} µs.`,
    },
  ];
}

/**
 * The interceptor HttpTraffic's deadline replaced, as it was until f6fc32d
 * (libs/common/src/http/request-timeout.interceptor.ts), but for the 503 it
 * builds when the timer fires, which it never does here.
 */
class RequestTimeoutInterceptor implements NestInterceptor {
  constructor(private readonly timeoutMs: number) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (Reflect.getMetadata(SSE_METADATA, context.getHandler())) return next.handle();
    return next.handle().pipe(
      timeout({
        first: this.timeoutMs,
        with: () => throwError(() => new Error(`No answer within ${this.timeoutMs} ms`)),
      }),
    );
  }
}

async function requestTracking(app: App): Promise<Row[]> {
  const traffic = new app.observability.HttpTraffic(() => {}) as unknown as {
    onRequest(request: object, response: object): string;
  };
  const socket = discardingSocket();
  const request = Object.assign(incomingRequest(socket), { route: { path: CONVERSATION_ROUTE } });
  const response = serverResponse(request, socket);

  const consumer = new InterceptorsConsumer();
  const interceptor = new RequestTimeoutInterceptor(REQUEST_TIMEOUT_MS);
  const { controller, handler } = conversationRoute(app);
  const instance = new controller();
  const args = [request, response, () => undefined];
  const answer = { messages: [] };
  const routeHandler = () => Promise.resolve(answer);
  const intercepted = async () =>
    lastValueFrom(
      (await consumer.intercept(
        [interceptor],
        args,
        instance,
        handler,
        routeHandler,
        'http',
      )) as Observable<unknown>,
    );
  assert.equal(await intercepted(), answer);

  const runs = await compare('request tracking', {
    now: {
      fn: () => {
        traffic.onRequest(request, response);
        response.emit('close');
      },
    },
    noInterceptor: {
      fn: () => consumer.intercept([], args, instance, handler, routeHandler, 'http'),
    },
    interceptor: { fn: intercepted },
  });
  return [
    {
      layer: 'request tracking + deadline',
      what: "`HttpTraffic`'s per-request work: request id (`randomUUID`), in-flight map, `close` listener, the finished report",
      now: runs.now.median,
      before: difference(runs.interceptor, runs.noInterceptor),
      notes: `The deadline itself is one shared timer, nothing per request. Before: Nest's interceptor chain with the rxjs \`timeout\` interceptor (a timer armed and cleared per request, \`lastValueFrom\`), minus the chain without interceptors (${format(runs.noInterceptor.median)} µs); HttpTraffic ran then too.`,
    },
  ];
}

async function validation(app: App): Promise<Row[]> {
  const { CompiledValidator, createValidationPipe } = app.common;
  const { SmsEventDto, ConversationQueryDto } = app.messaging;
  const sendBody = {
    senderPhone: PHONE,
    receiverPhone: COUNTERPART,
    messageText: 'Running 10 minutes late, see you at 7',
    timestamp: 1764072000,
    uuid: randomUUID(),
  };
  const libraryOptions = { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true };
  const libraries = (metatype: new () => object, plain: object) => async () => {
    const errors = await validate(plainToInstance(metatype, plain), libraryOptions);
    if (errors.length > 0) throw new Error(`${metatype.name} refused: ${String(errors)}`);
  };
  const compiled = (metatype: new () => object) => {
    const validator = CompiledValidator.for(metatype);
    if (!validator) throw new Error(`${metatype.name} has no compiled rules`);
    return validator;
  };
  const compiledSend = compiled(SmsEventDto);
  const compiledQuery = compiled(ConversationQueryDto);
  assert.ok(compiledSend.accept(sendBody) && compiledQuery.accept({}));

  const pipe = createValidationPipe();
  const libraryPipe = new ValidationPipe({
    ...libraryOptions,
    transform: true,
    validationError: { target: false, value: false },
  });
  const bodyMetadata = { type: 'body', metatype: SmsEventDto, data: undefined } as const;
  const runs = await compare('validation', {
    send: { fn: () => compiledSend.accept(sendBody) },
    sendLibraries: { fn: libraries(SmsEventDto, sendBody) },
    query: { fn: () => compiledQuery.accept({}) },
    queryLibraries: { fn: libraries(ConversationQueryDto, {}) },
    sendPipe: { fn: () => pipe.transform(sendBody, bodyMetadata) },
    sendLibraryPipe: { fn: () => libraryPipe.transform(sendBody, bodyMetadata) },
  });
  const before =
    'Before: `plainToInstance` + `await validate(dto, {whitelist, forbidUnknownValues, stopAtFirstError})`.';
  return [
    {
      layer: 'validation',
      what: '`CompiledValidator.for(SmsEventDto).accept(body)`, a valid send-sms body',
      now: runs.send.median,
      before: runs.sendLibraries.median,
      notes: `${before} Invalid input still takes the libraries' path, for their messages.`,
    },
    {
      layer: 'validation',
      what: '`ConversationQueryDto` with `{}` (get-conversation without `limit`/`before`)',
      now: runs.query.median,
      before: runs.queryLibraries.median,
      notes: before,
    },
    {
      layer: 'validation',
      what: "the whole pipe on the send body: the app's `createValidationPipe().transform`",
      now: runs.sendPipe.median,
      before: runs.sendLibraryPipe.median,
      notes: "Before: Nest's `ValidationPipe` with the app's options.",
    },
  ];
}

async function phoneParsing(app: App): Promise<Row[]> {
  const { PhoneNumbers, parsePartyAddress } = app.common;
  const phones = new PhoneNumbers('US');
  const accept = ['phone'] as const;
  assert.deepEqual(phones.parse(PHONE, accept), { kind: 'phone', value: PHONE });
  const runs = await compare('phone parsing', {
    now: { fn: () => phones.parse(PHONE, accept) },
    before: { fn: () => parsePartyAddress(PHONE, { defaultCountry: 'US', accept }) },
  });
  return [
    {
      layer: 'phone parsing',
      what: "`PhoneNumbers.parse('+12025550143', ['phone'])`, a number seen before; per number",
      now: runs.now.median,
      before: runs.before.median,
      notes:
        'A send parses two numbers, a read one (inside the guard, so also in the auth rows). Before: `parsePartyAddress` (libphonenumber-js) every time, which a number not seen yet still costs.',
    },
  ];
}

async function serialization(app: App): Promise<Row[]> {
  const texts = [
    'Running 10 minutes late, see you at 7',
    'Can you pick up milk on the way home?',
    'Café at 8 tomorrow? I booked the table',
    'Thanks! Got the package this afternoon 👍',
    'Meeting moved to 3pm, same room as last week',
  ];
  const messages = Array.from({ length: 100 }, (_, i) => ({
    phone_number: `+120255501${String(50 + (i % 5)).padStart(2, '0')}`,
    message_text: texts[i % texts.length],
    timestamp: 1764072000 + i * 97,
    direction: i % 3 === 0 ? 'received' : 'sent',
  }));
  const answer = {
    messages,
    nextCursor: new app.common.CursorCodec(randomBytes(32)).encode(`conversation:${PHONE}`, {
      time: 1764072000,
      key: randomUUID(),
    }),
  };
  const stringify = fastJson({
    type: 'object',
    properties: {
      messages: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            phone_number: { type: 'string' },
            message_text: { type: 'string' },
            timestamp: { type: 'number' },
            direction: { type: 'string' },
          },
          required: ['phone_number', 'message_text', 'timestamp', 'direction'],
        },
      },
      nextCursor: { type: 'string' },
    },
    required: ['messages'],
  });
  assert.deepEqual(JSON.parse(stringify(answer)), answer);
  const runs = await compare('serialization', {
    now: { fn: () => JSON.stringify(answer) },
    fastJson: { fn: () => stringify(answer) },
  });
  return [
    {
      layer: 'serialization',
      what: `\`JSON.stringify\` of a get-conversation answer: 100 messages + cursor (${Buffer.byteLength(JSON.stringify(answer))} bytes)`,
      now: runs.now.median,
      notes: `What both platforms do (Nest gives Fastify no schema). For comparison, fast-json-stringify with the answer's schema: ${format(runs.fastJson.median)} µs.`,
    },
  ];
}

/** Last: on Node 20 an AsyncLocalStorage, once used, hooks every promise made after. */
async function requestContext(app: App): Promise<Row[]> {
  const { requestContext: context } = app.observability;
  const resolved = Promise.resolve();
  const work = async () => {
    for (let i = 0; i < 20; i++) await resolved;
  };
  const runs = await compare('request context', {
    // Turns the storage (and on Node 20 its promise hook) off, as before the first request.
    without: { setup: () => context.disable(), fn: work },
    with: { fn: () => context.run('request-id', work) },
  });
  return [
    {
      layer: 'request context',
      what: '`requestContext.run(id, fn)` (AsyncLocalStorage) around a function awaiting 20 resolved promises',
      now: difference(runs.with, runs.without),
      notes: `Minus the same function without it (${format(runs.without.median)} µs). The rows above are measured with no storage active.`,
    },
  ];
}

const LAYERS: Array<(app: App) => Promise<Row[]>> = [
  authAndRateLimit,
  log,
  metrics,
  headers,
  requestTracking,
  validation,
  phoneParsing,
  serialization,
  requestContext,
];

function table(rows: Row[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| layer | what is measured | µs per request now | µs per request with the library it replaced | notes |',
    '|---|---|--:|--:|---|',
    ...rows.map(
      (row) =>
        `| ${row.layer} | ${cell(row.what)} | ${format(row.now)} | ${format(row.before)} | ${cell(row.notes)} |`,
    ),
  ].join('\n');
}

function findRoot(from: string): string {
  for (let dir = from, depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench/layers.ts'))) {
      return dir;
    }
  }
  throw new Error(`Cannot find the repository root above ${from}`);
}

async function main(): Promise<void> {
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  const app = await loadApp(root);
  const started = new Date();
  const rows: Row[] = [];
  // `node dist/bench/layers.js log headers`: only those (by function name).
  const only = process.argv.slice(2);
  for (const layer of LAYERS.filter(({ name }) => only.length === 0 || only.includes(name))) {
    rows.push(...(await layer(app)));
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
  const header = [
    `Layer budget, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${machine}`,
    `CPU time per call (process.cpuUsage), median of ${TRIALS} alternating trials of ≥ 200 ms each${gcExposed ? ', a minor GC before each' : ' (run node with --expose-gc for a GC before each)'}.`,
  ].join('\n');
  process.stdout.write(`${header}\n\n${table(rows)}\n`);

  const results = join(root, 'bench/results');
  await mkdir(results, { recursive: true });
  const file = join(
    results,
    `layers-${started.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-node${process.versions.node.split('.')[0]}.json`,
  );
  await writeFile(
    file,
    `${JSON.stringify({ started, node: process.version, machine, rows }, null, 2)}\n`,
  );
  process.stderr.write(`wrote ${file}\n`);
}

await main();
