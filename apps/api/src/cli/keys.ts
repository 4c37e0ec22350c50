import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { type ApiKeyDto, ApiKeysService } from '@app/auth';
import { ApiException } from '@app/common';
import { KeysCliModule } from './keys-cli.module.js';

const USAGE = `Manage API keys (same configuration as the app: .env, DATABASE_URL, ...).

  npm run keys -- create --label "Alice's phone" --phone +12025550143 [--phone ...]
  npm run keys -- list
  npm run keys -- revoke <id>
`;

class UsageError extends Error {}

/**
 * The operator's way to issue, list and revoke keys without curl: the same
 * service as the HTTP API, on a Nest application context (no HTTP server).
 * A new key's secret goes to stdout and nowhere else.
 */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      label: { type: 'string' },
      phone: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const run = commandFor(command, rest, values);
  const app = await NestFactory.createApplicationContext(KeysCliModule, {
    logger: ['error', 'warn'],
  });
  try {
    await run(app.get(ApiKeysService));
  } finally {
    await app.close();
  }
}

function commandFor(
  command: string,
  args: string[],
  options: { label?: string; phone?: string[] },
): (keys: ApiKeysService) => Promise<void> {
  switch (command) {
    case 'create': {
      const { label, phone: phones = [] } = options;
      if (!label || phones.length === 0) {
        throw new UsageError('create needs --label and at least one --phone');
      }
      return async (keys) => {
        const key = await keys.create({ label, phones });
        process.stdout.write(`${JSON.stringify(key, null, 2)}\n`);
        process.stderr.write('The key is shown only this once: store it now.\n');
      };
    }
    case 'list':
      return async (keys) => {
        process.stdout.write(formatKeys(await keys.list()));
      };
    case 'revoke': {
      const [id] = args;
      if (!id || args.length > 1) throw new UsageError('revoke needs exactly one key id');
      return async (keys) => {
        await keys.revoke(id);
        process.stdout.write(`Revoked ${id}\n`);
      };
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function formatKeys(keys: ApiKeyDto[]): string {
  if (keys.length === 0) return 'No API keys.\n';
  const rows = keys.map((key) => [
    key.id,
    `${key.keyPrefix}…`,
    key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
    key.createdAt,
    key.phones.join(','),
    key.label,
  ]);
  const header = ['ID', 'KEY', 'STATUS', 'CREATED', 'PHONES', 'LABEL'];
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => row[column].length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  // 4xx from the service (bad phone, unknown id): the message is meant for a person.
  const message =
    error instanceof ApiException && error.getStatus() < 500
      ? error.message
      : error instanceof Error
        ? error.message
        : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
});
