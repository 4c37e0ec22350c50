// Regenerates a run's chart from its saved JSON:
//
//   npm run bench:chart -- bench/results/<stamp>.json [--out FILE]
//
// Writes bench/results/<stamp>.svg next to the JSON and bench/chart.svg (the
// one bench/README.md shows); with --out, FILE only.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chartInputFromReport, renderChart, type SavedReport } from './lib/chart.js';

/** bench/chart.svg: this file runs from dist/bench/, two levels under the repository. */
const COMMITTED_CHART = join(dirname(fileURLToPath(import.meta.url)), '../../bench/chart.svg');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, help: { type: 'boolean', default: false } },
});
if (values.help || positionals.length !== 1) {
  console.log('npm run bench:chart -- bench/results/<stamp>.json [--out FILE]');
  process.exit(values.help ? 0 : 1);
}
const source = resolve(positionals[0]);
const report = JSON.parse(await readFile(source, 'utf8')) as SavedReport;
const svg = renderChart(chartInputFromReport(report));
const targets = values.out
  ? [resolve(values.out)]
  : [source.replace(/\.json$/, '') + '.svg', COMMITTED_CHART];
for (const target of targets) {
  await writeFile(target, svg);
  console.log(`wrote ${target}`);
}
