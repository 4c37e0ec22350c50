import { OUTCOMES } from '@cli/import/events.js';
import { FILE_EXTENSIONS, formatOf } from '@cli/import/formats.js';
import { Tally } from '@cli/import/tally.js';
import { useState } from 'preact/hooks';
import { type Api, ApiError } from '../api.js';
import type { ImportProgress } from '../file-import.js';

interface Props {
  api: Api;
  phone: string;
  /** After an import, stopped or not: the threads show what it stored. */
  onImported: () => void;
  onUnauthorized: () => void;
}

interface Run {
  fileName: string;
  progress: ImportProgress;
  done: boolean;
}

/**
 * Imports a file into the open number's history, as `npm run import` does: an
 * "SMS Backup & Restore" XML backup of this phone, or a CSV or NDJSON download
 * from this page (another instance's too). Importing it again is harmless:
 * what is already stored comes back "replayed".
 */
export function ImportFile({ api, phone, onImported, onUnauthorized }: Props) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const busy = run !== null && !run.done;

  const start = async (file: File) => {
    const fileName = file.name;
    const format = formatOf(fileName);
    if (format === undefined) {
      setRun(null);
      setError(
        `Cannot tell the format of ${fileName}: choose an .xml, .ndjson, .jsonl or .csv file.`,
      );
      return;
    }
    const tally = new Tally();
    setError(null);
    setRun({ fileName, progress: { bytesRead: 0, totalBytes: file.size, tally }, done: false });
    try {
      // The parsers load when a file is chosen, not with the page.
      const { importFile } = await import('../file-import.js');
      await importFile(file, format, {
        api,
        phone,
        tally,
        onProgress: (progress) => setRun({ fileName, progress, done: false }),
      });
      onImported();
    } catch (caught) {
      if (caught instanceof ApiError && caught.isUnauthorized) {
        onUnauthorized();
        return;
      }
      setError(explain(caught, tally));
      // Stopped part way: what was stored before shows all the same.
      if (tally.events > 0) onImported();
    } finally {
      setRun((current) => (current ? { ...current, done: true } : current));
    }
  };

  return (
    <section class="import">
      <label for="import-file">Import a file</label>
      <input
        id="import-file"
        type="file"
        accept={FILE_EXTENSIONS.join(',')}
        disabled={busy}
        aria-describedby="import-hint"
        onChange={(event) => {
          const input = event.currentTarget;
          const file = input.files?.[0];
          // Cleared, so that choosing the same file again imports it again.
          input.value = '';
          if (file) void start(file);
        }}
      />
      <p id="import-hint" class="hint">
        An SMS Backup &amp; Restore XML backup of this phone, or a CSV or NDJSON download. Importing
        a file twice stores its messages once.
      </p>
      {busy ? <Progress run={run} /> : null}
      {error ? (
        <p class="inline-error" role="alert">
          {error}
        </p>
      ) : null}
      {run?.done ? <Summary run={run} onDismiss={() => setRun(null)} /> : null}
    </section>
  );
}

function Progress({ run }: { run: Run }) {
  const { bytesRead, totalBytes, tally } = run.progress;
  return (
    <div class="import-progress">
      <label for="import-progress">Importing {run.fileName}</label>
      <progress id="import-progress" max={Math.max(totalBytes, 1)} value={bytesRead} />
      <p role="status">
        {tally.messages} messages read, {tally.events} events sent, {tally.failureCount} not
        imported
      </p>
    </div>
  );
}

function Summary({ run, onDismiss }: { run: Run; onDismiss: () => void }) {
  const { tally } = run.progress;
  const skipped = [...tally.skipped].map(([reason, count]) => `${reason} ${count}`).join(', ');
  const rows: Array<[string, number, string?]> = [
    ...OUTCOMES.map((outcome): [string, number] => [outcome, tally.outcomes[outcome]]),
    ['skipped', tally.skippedCount, skipped || undefined],
    ['unreadable', tally.unreadable],
  ];
  return (
    <div class="import-summary" role="status">
      <p>
        {run.fileName}: {tally.messages} messages as {tally.events} events
      </p>
      <dl class="import-counts">
        {rows.map(([name, count, detail]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>
              {count}
              {detail ? ` (${detail})` : null}
            </dd>
          </div>
        ))}
      </dl>
      {tally.failureCount > 0 ? (
        <>
          <p>
            {tally.failures.length < tally.failureCount
              ? `Not imported (the first ${tally.failures.length} of ${tally.failureCount}):`
              : `Not imported (${tally.failureCount}):`}
          </p>
          <ul class="import-failures">
            {tally.failures.map(({ line, uuid, outcome, reason }, index) => (
              <li key={index}>
                Line {line}
                {uuid ? ` (${uuid})` : ''}: {outcome}
                {reason ? `: ${reason}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <button type="button" class="link" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

function explain(error: unknown, tally: Tally): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError) {
    return tally.events > 0
      ? `${message.replace(/\.?$/, '.')} Import the same file again to go on: what was stored comes back "replayed".`
      : message;
  }
  // A reader's words: the file is not what its name says.
  return `The file could not be read: ${message}`;
}
