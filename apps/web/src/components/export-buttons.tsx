import { useState } from 'preact/hooks';
import { type Api, ApiError, type ExportFormat } from '../api.js';

interface Props {
  api: Api;
  phone: string;
  onUnauthorized: () => void;
}

const FORMATS: Array<{ format: ExportFormat; label: string }> = [
  { format: 'csv', label: 'Download CSV' },
  { format: 'ndjson', label: 'Download NDJSON' },
];

/** Saves the number's whole history (GET /api/phones/{phone}/export) as a file. */
export function ExportButtons({ api, phone, onUnauthorized }: Props) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<string | null>(null);

  const download = async (format: ExportFormat) => {
    setBusy(format);
    setError(null);
    try {
      const file = await api.exportFile(phone, format);
      const url = URL.createObjectURL(file);
      const link = document.createElement('a');
      link.href = url;
      link.download = `sms-${phone.replace(/[^0-9A-Za-z+]/g, '')}.${format}`;
      link.click();
      // The browser has the file once the click is handled.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (caught) {
      if (caught instanceof ApiError && caught.isUnauthorized) onUnauthorized();
      setError(caught instanceof Error ? caught.message : 'The download failed');
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="export" role="group" aria-label="Download your history">
      {FORMATS.map(({ format, label }) => (
        <button
          key={format}
          type="button"
          class="link"
          disabled={busy !== null}
          onClick={() => void download(format)}
        >
          {busy === format ? 'Preparing…' : label}
        </button>
      ))}
      {error ? (
        <p class="inline-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
