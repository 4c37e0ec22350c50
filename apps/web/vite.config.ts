import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * sax asks for Node's `stream` (in a try) only for its stream wrapper; the page
 * uses `sax.parser()`, so it gets an empty module instead of a browser stub.
 */
const saxWithoutStream: Plugin = {
  name: 'sax-without-stream',
  enforce: 'pre',
  resolveId: (id, importer) =>
    id === 'stream' && importer?.includes('/node_modules/sax/') ? '\0sax-no-stream' : undefined,
  load: (id) => (id === '\0sax-no-stream' ? 'export default {};' : undefined),
};

/**
 * The conversations page. Built into dist/web, next to the API's dist/apps/api
 * (which `nest build` cleans without touching this), and served by the API at
 * `/`. `npx vite --config apps/web/vite.config.ts` serves it with hot reload,
 * sending /api to an API on port 3000.
 */
export default defineConfig({
  root: here('.'),
  plugins: [preact(), saxWithoutStream],
  resolve: {
    // The server's SMS encoding and party-address rules, so the page counts and
    // reads numbers exactly as it does; the import CLI's readers, so the page
    // reads a file exactly as `npm run import` does.
    alias: {
      '@app/common/sms': here('../../libs/common/src/sms'),
      '@app/common/phone': here('../../libs/common/src/phone'),
      '@cli/import': here('../api/src/cli/import'),
      // The same parser, built for browsers (it brings its own Buffer).
      'csv-parse/sync': 'csv-parse/browser/esm/sync',
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
