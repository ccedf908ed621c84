// Apart from pem.ts so that reading PEM blocks needs no X.509 library (see quick-inspect.ts).

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;

/** Every PEM block in a text, in order; anything between blocks is ignored. */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    // Node's base64 decoder skips the line breaks itself: no copy of a large block without them.
    blocks.push({ label: match[1] ?? '', der: new Uint8Array(Buffer.from(match[2] ?? '', 'base64')) });
  }
  return blocks;
}
