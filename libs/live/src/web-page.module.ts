import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';

export interface WebPageOptions {
  /** The page's build output (apps/web, built by `npm run build`). */
  rootPath: string;
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
            index: 'index.html',
            fallthrough: true,
            setHeaders: (response: { setHeader(name: string, value: string): void }, path: string) =>
              response.setHeader(
                'Cache-Control',
                IMMUTABLE_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
              ),
          },
        }),
      ],
    };
  }
}
