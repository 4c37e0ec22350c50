import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type Format, FORMATS, formatOf, isFormat } from './import/formats.js';
import { createProgress, type Progress } from './import/progress.js';
import { readImport } from './import/readers.js';
import { type Session, withinScope } from './import/scope.js';
import { ServiceClient, ServiceError } from './import/service-client.js';
import { formatSummary } from './import/summary.js';
import { Tally } from './import/tally.js';
import { MAX_BATCH_SIZE, Uploader } from './import/uploader.js';

const USAGE = `Import a backlog of messages into a running service, over its HTTP API.

  npm run import -- --phone <owner's number> [options] FILE

FILE is the service's own export (.ndjson/.jsonl or .csv) or an "SMS Backup &
Restore" XML backup (.xml), for which --phone is required: the backup does not
say whose phone it came from. Running the same command again resumes: what is
already stored comes back "replayed".

  --phone <number>      the owner of the messages (the phone the backup is from)
  --url <url>           the service (default http://localhost:3000)
  --key <key>           an API key (default: $SMS_API_KEY)
  --format <format>     ndjson, csv or xml (default: from the file's extension)
  --batch-size <n>      events per request, 1-${MAX_BATCH_SIZE} (default ${MAX_BATCH_SIZE})
  --concurrency <n>     requests in flight, 1-8 (default 2)
  --retries <n>         attempts after a transient failure (default 6)

Exit codes: 0 all imported (or skipped on purpose), 1 some messages not imported,
2 bad usage, 3 the service refused the key, 4 the service unreachable or unavailable.
`;

const EXIT_CODES = { refused: 1, auth: 3, unavailable: 4 } as const;

class UsageError extends Error {}

interface Options {
  file: string;
  format: Format;
  phone?: string;
  url: string;
  key: string;
  batchSize: number;
  concurrency: number;
  retries: number;
}

/**
 * `npm run import`: a plain HTTP client of the import endpoint, so a backlog
 * passes the same auth and rules as every other client. It streams the file
 * and keeps a bounded number of batches in flight, so memory stays flat
 * whatever the file's size.
 */
async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const size = await stat(options.file).then(
    (stats) => stats.size,
    (error: Error) => {
      throw new UsageError(`cannot read ${options.file}: ${error.message}`);
    },
  );

  const tally = new Tally();
  // The bar exists once the key is accepted; a retry before that is a plain line.
  const display: { progress?: Progress } = {};
  const client = new ServiceClient({
    url: options.url,
    key: options.key,
    retries: options.retries,
    onRetry: (reason, delayMs) => {
      const text = `${reason}; retrying in ${(delayMs / 1000).toFixed(1)} s`;
      if (display.progress) display.progress.note(text);
      else process.stderr.write(`${text}\n`);
    },
  });
  // Asked first, so a wrong key or URL fails before the file is touched.
  const session = await client.get<Session>('/api/session');

  const input = createReadStream(options.file);
  const startedAt = Date.now();
  const progress = createProgress(process.stderr, size, tally);
  display.progress = progress;
  const uploader = new Uploader(client, tally, {
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    onBatch: (batch) => progress.update(input.bytesRead, batch),
  });
  let stopped: unknown;
  try {
    await uploader.run(withinScope(readImport(options.format, input, options.phone), session));
  } catch (error) {
    stopped = error;
  } finally {
    progress.stop();
    input.destroy();
  }

  process.stdout.write(formatSummary(tally, Date.now() - startedAt));
  if (stopped === undefined) return tally.succeeded ? 0 : 1;
  process.stderr.write(
    `Stopped: ${(stopped as Error).message}\n` +
      'Run the same command again to resume: what was stored comes back "replayed".\n',
  );
  return stopped instanceof ServiceError ? EXIT_CODES[stopped.kind] : 1;
}

function parseOptions(argv: string[]): Options | undefined {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      phone: { type: 'string' },
      url: { type: 'string', default: 'http://localhost:3000' },
      key: { type: 'string' },
      format: { type: 'string' },
      'batch-size': { type: 'string', default: String(MAX_BATCH_SIZE) },
      concurrency: { type: 'string', default: '2' },
      retries: { type: 'string', default: '6' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) return undefined;
  if (positionals.length > 1) throw new UsageError('give exactly one FILE');
  const [file] = positionals;

  const format = values.format ?? formatOf(file);
  if (format === undefined) {
    throw new UsageError(`cannot tell the format of ${file} from its extension: pass --format`);
  }
  if (!isFormat(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  }
  if (format === 'xml' && !values.phone) {
    throw new UsageError('an XML backup needs --phone: the number of the phone it came from');
  }
  const key = values.key ?? process.env.SMS_API_KEY;
  if (!key) throw new UsageError('no API key: pass --key or set SMS_API_KEY');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url is not a URL: ${values.url}`);
  }
  return {
    file,
    format,
    phone: values.phone,
    url: url.href,
    key,
    batchSize: integer('--batch-size', values['batch-size'], 1, MAX_BATCH_SIZE),
    concurrency: integer('--concurrency', values.concurrency, 1, 8),
    retries: integer('--retries', values.retries, 0, 100),
  };
}

function integer(name: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return number;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof ServiceError ? EXIT_CODES[error.kind] : 1;
  },
);
