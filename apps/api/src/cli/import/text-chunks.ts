/**
 * A file's text, chunk by chunk, whether it comes as UTF-8 bytes (a Node.js
 * file stream) or as text already (the page's TextDecoderStream). A character
 * split across two byte chunks is decoded whole; a leading BOM is dropped.
 */
export async function* textOf(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/** Longer than any record of an export or a backup: past it, the file is not one. */
export const MAX_RECORD_CHARS = 1024 * 1024;
