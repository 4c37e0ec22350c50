import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Builds the page before the browser tests, so they always test the current
 * source. The app under test serves it from dist/web, as in production.
 */
export default async function buildPage(): Promise<void> {
  // Vitest sets NODE_ENV=test, which would make Vite build for development.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: fileURLToPath(new URL('../../apps/web/vite.config.ts', import.meta.url)),
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
