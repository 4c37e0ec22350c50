import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The conversations page. Built into dist/web, next to the API's dist/apps/api
 * (which `nest build` cleans without touching this), and served by the API at
 * `/`. `npx vite --config apps/web/vite.config.ts` serves it with hot reload,
 * sending /api to an API on port 3000.
 */
export default defineConfig({
  root: here('.'),
  plugins: [preact()],
  resolve: {
    // The server's SMS encoding and party-address rules, so the page counts and
    // reads numbers exactly as it does.
    alias: {
      '@app/common/sms': here('../../libs/common/src/sms'),
      '@app/common/phone': here('../../libs/common/src/phone'),
    },
  },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
