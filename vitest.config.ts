import { defineConfig } from 'vitest/config';

// One `npm test` runs every level: unit and controller specs next to the code,
// and the end-to-end suites in test/ against a real PostgreSQL (embedded unless
// DATABASE_URL is set, see test/setup/global-setup.ts).
export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    globals: true,
    // Nest's decorators need the Reflect metadata API before any module loads.
    setupFiles: ['reflect-metadata'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'apps/**/*.spec.ts',
            'libs/**/*.spec.ts',
            'test/**/*.spec.ts',
            'bench/**/*.spec.ts',
          ],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          exclude: ['test/services/**', 'test/browser/**', 'test/topology/**'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Needs this machine's Redis (127.0.0.1:6379): `npm run test:services`,
        // left out of `npm test` so that it needs nothing but Node.js.
        extends: true,
        test: {
          name: 'services',
          include: ['test/services/**/*.e2e-spec.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The deployment on this machine's nginx, PgBouncer, PostgreSQL 15 and
        // Redis (deploy/local): `npm run test:topology`, run by .ci/run.
        extends: true,
        test: {
          name: 'topology',
          include: ['test/topology/**/*.e2e-spec.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The page in a real Chromium (/usr/bin/chromium): `npm run test:browser`,
        // left out of `npm test` so that it needs nothing but Node.js.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser-spec.ts'],
          globalSetup: ['test/setup/global-setup.ts', 'test/browser/build-page.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
