import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';

export interface WebPageOptions {
  /** The page's build output (apps/web, built by `npm run build`). */
  rootPath: string;
}

/** A Node response (Express, @fastify/static), or a Fastify reply (the page at `/` on Fastify). */
type HeaderTarget =
  | { setHeader(name: string, value: string): unknown }
  | { header(name: string, value: string): unknown };

function setHeader(target: HeaderTarget, name: string, value: string): void {
  if ('setHeader' in target) target.setHeader(name, value);
  else target.header(name, value);
}

/** Vite names every asset after its content hash, so an asset never changes. */
const IMMUTABLE_ASSET = /[/\\]assets[/\\]/;

/**
 * Serves the conversations page at `/` from its static build, on Express and
 * on Fastify alike; `/api` stays the API's. Without a build (tests that do not
 * need the page, `start:dev` before any build) the API runs alone.
 */
@Module({})
export class WebPageModule {
  static register(options: WebPageOptions): DynamicModule {
    if (!existsSync(join(options.rootPath, 'index.html'))) {
      new Logger('WebPage').warn(
        `No page build in ${options.rootPath}: serving the API only (npm run build builds the page)`,
      );
      return { module: WebPageModule };
    }
    return {
      module: WebPageModule,
      imports: [
        ServeStaticModule.forRoot({
          rootPath: options.rootPath,
          // Only the page itself: any other unknown path stays a JSON 404.
          renderPath: '/',
          exclude: ['/api/{*path}'],
          serveStaticOptions: {
            // `/` is the render path's; @fastify/static would declare it a second time.
            index: false,
            fallthrough: true,
            setHeaders: (response: HeaderTarget, path: string) =>
              setHeader(
                response,
                'Cache-Control',
                IMMUTABLE_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
              ),
          },
        }),
      ],
    };
  }
}
