// The built app's modules the layer budget measures, imported at run time from
// dist/apps/api (as the benchmark's same-sql floor does), with the few types
// used here written out: bench/ compiles on its own, without the app's sources.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionContext, PipeTransform } from '@nestjs/common';
import type { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { HelmetOptions } from 'helmet';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import type { Registry } from 'prom-client';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Class<T = object> = new (...args: any[]) => T;
type MaybePromise<T> = T | Promise<T>;

/** The part of the `auth` configuration namespace the limiters read. */
interface RateLimitSettings {
  throttleTtlMs: number;
  throttleLimit: number;
  authFailureLimit: number;
}

export interface Principal {
  readonly keyId: string;
  readonly isAdmin: boolean;
  readonly phones: ReadonlySet<string>;
}

export interface RateLimitStorage {
  hit(key: string, ttl: number, limit: number, blockDuration: number, name: string): unknown;
  onApplicationShutdown(): Promise<void>;
}

export interface PhoneNumbers {
  parse(input: unknown, accept: readonly string[]): { kind: string; value: string } | object;
}

export interface FinishedRequest {
  requestId: string;
  method: string;
  route: string;
  path?: string;
  status: number;
  durationSeconds: number;
  aborted: boolean;
}

export interface AuthModules {
  AuthGuard: new (
    reflector: Reflector,
    adminKey: object,
    keys: object,
    failures: object,
    keyRateLimit: object,
    phones: PhoneNumbers,
    adapterHost: HttpAdapterHost,
  ) => { canActivate(context: ExecutionContext): MaybePromise<boolean> };
  AdminKey: new (secret: string) => { matches(secret: string): boolean };
  ApiKeysService: new (
    repository: object,
    phones: PhoneNumbers,
  ) => { findPrincipal(secret: string): MaybePromise<Principal | undefined> };
  AuthFailureLimiter: new (storage: RateLimitStorage, config: RateLimitSettings) => object;
  KeyRateLimit: new (
    storage: RateLimitStorage,
    adapterHost: HttpAdapterHost,
    config: RateLimitSettings,
  ) => { consume(principal: Principal, response: unknown): MaybePromise<void> };
  /** In-memory counters (`RateLimitStorage.create` makes the Redis kind). */
  RateLimitStorage: new () => RateLimitStorage;
  ActsFor(source: { param: string } | { body: string }): MethodDecorator;
  ADMIN_PRINCIPAL: Principal;
  attachPrincipal(request: object, principal: Principal): void;
  principalOf(request: object): Principal | undefined;
  generateApiKeySecret(): string;
  hashApiKey(secret: string): Buffer;
}

export interface CommonModules {
  PhoneNumbers: new (defaultCountry: string) => PhoneNumbers;
  parsePartyAddress(
    input: string,
    options: { defaultCountry: string; accept: readonly string[] },
  ): { kind: string; value: string } | object;
  securityHeaders(): Map<string, string>;
  HELMET_OPTIONS: Readonly<HelmetOptions>;
  CompiledValidator: {
    for<T extends object>(
      metatype: Class<T>,
    ): { accept(plain: unknown): T | undefined } | undefined;
  };
  createValidationPipe(): PipeTransform;
  /** Signs cursors with the secret (SECRETS_KEY's derived cursor key in the app). */
  CursorCodec: new (secret: Buffer) => {
    encode(scope: string, position: { time: number; key: string }): string;
  };
}

export interface ObservabilityModules {
  loggingParams(settings: { level: string; pretty: boolean; destination?: DestinationStream }): {
    pinoHttp: [LoggerOptions, DestinationStream];
  };
  logFinishedRequest(logger: Logger, request: FinishedRequest): void;
  HttpTraffic: new (onFinished: (request: FinishedRequest) => void) => object;
  RequestDurationHistogram: new (
    bounds: readonly number[],
    registry: Registry,
  ) => { observe(method: string, route: string, status: number, seconds: number): void };
  requestContext: {
    run<R>(store: string, callback: () => R): R;
    disable(): void;
  };
}

export interface MessagingModules {
  SmsEventDto: Class;
  ConversationQueryDto: Class;
}

export interface App {
  /** dist/apps/api, where the modules came from. */
  dir: string;
  auth: AuthModules;
  common: CommonModules;
  observability: ObservabilityModules;
  messaging: MessagingModules;
}

/** Imports the compiled modules of the app built in `root`/dist/apps/api. */
export async function loadApp(root: string): Promise<App> {
  const dir = join(root, 'dist/apps/api');
  const load = async <T>(file: string): Promise<T> => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: build the app first (npm run build)`);
    }
    return (await import(pathToFileURL(path).href)) as T;
  };
  const auth = {
    ...(await load<object>('libs/auth/src/index.js')),
    ...(await load<object>('libs/auth/src/auth.guard.js')),
    ...(await load<object>('libs/auth/src/auth-failure-limiter.js')),
    ...(await load<object>('libs/auth/src/key-rate-limit.js')),
    ...(await load<object>('libs/auth/src/rate-limit.storage.js')),
  } as AuthModules;
  const observability = {
    ...(await load<object>('libs/observability/src/index.js')),
    ...(await load<object>('libs/observability/src/metrics/request-duration.histogram.js')),
  } as ObservabilityModules;
  return {
    dir,
    auth,
    common: await load<CommonModules>('libs/common/src/index.js'),
    observability,
    messaging: await load<MessagingModules>('libs/messaging/src/index.js'),
  };
}
