import { Injectable, type OnModuleInit, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { AuthRule } from './auth.decorators.js';
import { authRuleOf } from './auth.guard.js';

export interface RouteAuth {
  /** e.g. `GET` */
  method: string;
  /** Without the global prefix, Nest syntax: `/get-conversation/:phone_number` */
  path: string;
  /** `MessagesController.getConversation` */
  handler: string;
  rule: AuthRule | undefined;
}

const paths = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value ?? '']).map((path) => String(path));

const joinPath = (...parts: string[]): string =>
  `/${parts
    .flatMap((part) => part.split('/'))
    .filter(Boolean)
    .join('/')}`;

/**
 * Lists every route of the app with its auth rule, and refuses to start when
 * one has none: a route added without thinking about who may call it must
 * not go live open (or closed by accident).
 */
@Injectable()
export class RouteRules implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const missing = this.routes().filter((route) => route.rule === undefined);
    if (missing.length > 0) {
      const list = missing.map((route) => `${route.method} ${route.path} (${route.handler})`);
      throw new Error(
        `Every route needs an auth rule: @Public(), @AdminOnly(), @ActsFor(...) or @PerObjectAccess() from @app/auth. Missing on: ${list.join(', ')}`,
      );
    }
  }

  routes(): RouteAuth[] {
    return this.discovery.getControllers().flatMap(({ metatype, instance }) => {
      if (!metatype || !instance) return [];
      const controller = metatype as abstract new (...args: never[]) => object;
      const prototype = Object.getPrototypeOf(instance) as object;
      return this.scanner.getAllMethodNames(prototype).flatMap((name) => {
        const handler = (prototype as Record<string, unknown>)[name] as (
          ...args: never[]
        ) => unknown;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) return [];
        const rule = authRuleOf(this.reflector, {
          getHandler: () => handler,
          getClass: () => controller as never,
        });
        return paths(Reflect.getMetadata(PATH_METADATA, controller)).flatMap((base) =>
          paths(Reflect.getMetadata(PATH_METADATA, handler)).map((path) => ({
            method: RequestMethod[method],
            path: joinPath(base, path),
            handler: `${controller.name}.${name}`,
            rule,
          })),
        );
      });
    });
  }
}
