const RUN = /(?:&#(?:[xX][0-9a-fA-F]+|[0-9]+);)+/g;
const REFERENCE = /&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));/g;
const ONE_REFERENCE = /^&#(?:[xX][0-9a-fA-F]+|[0-9]+);$/;
const PARTIAL_REFERENCE = /^&(?:#(?:[xX][0-9a-fA-F]*|[0-9]*))?$/;
const REPLACEMENT = '&#65533;';

/**
 * Android writes each UTF-16 unit of a character outside the BMP as its own
 * reference (`&#55357;&#56832;` for 😀), which XML forbids and parsers refuse.
 * This joins such pairs into one reference (`&#128512;`) and turns any other
 * reference to a character XML cannot hold (a lone surrogate, a control
 * character) into U+FFFD, so one odd message does not stop the whole file.
 * It works on a stream of text: what may continue in the next chunk is held back.
 */
export class CharacterReferenceRepair {
  private held = '';

  push(chunk: string): string {
    const text = this.held + chunk;
    const cut = heldBackFrom(text);
    this.held = text.slice(cut);
    return repair(text.slice(0, cut));
  }

  end(): string {
    const rest = repair(this.held);
    this.held = '';
    return rest;
  }
}

export function repair(text: string): string {
  if (!text.includes('&#')) return text;
  return text.replace(RUN, (run) => {
    const codes = [...run.matchAll(REFERENCE)].map(([, hex, decimal]) =>
      hex !== undefined ? parseInt(hex, 16) : parseInt(decimal, 10),
    );
    let out = '';
    for (let i = 0; i < codes.length; i += 1) {
      const code = codes[i];
      const next = codes[i + 1];
      if (isHighSurrogate(code) && next !== undefined && isLowSurrogate(next)) {
        out += `&#${(code - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000};`;
        i += 1;
      } else {
        out += isXmlChar(code) ? `&#${code};` : REPLACEMENT;
      }
    }
    return out;
  });
}

/** Where the trailing run of references (and a partial one at the very end) starts. */
function heldBackFrom(text: string): number {
  let cut = text.length;
  for (;;) {
    const amp = text.lastIndexOf('&', cut - 1);
    if (amp < 0) return cut;
    const tail = text.slice(amp, cut);
    const adjacent =
      ONE_REFERENCE.test(tail) || (cut === text.length && PARTIAL_REFERENCE.test(tail));
    if (!adjacent) return cut;
    cut = amp;
  }
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}
