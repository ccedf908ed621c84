/**
 * Reads the fenced code blocks of a wiki page (wiki/README.md describes the convention).
 *
 * A block's info string is its language and then attributes, e.g.
 *   ```sh skip=macos
 *   ```nginx file=nginx.conf
 *   ```sh expect="Hello, alice" fails
 *   ```sh needs=caddy
 * Only sh, nginx and js blocks are read; everything else (yaml, crontab, text) is prose.
 */

export const RUNNABLE_LANGUAGES = ['sh', 'nginx', 'js'] as const;
export type BlockLanguage = (typeof RUNNABLE_LANGUAGES)[number];

export interface WikiBlock {
  language: BlockLanguage;
  /** key=value (or key="some value") attributes; bare words map to "". */
  attributes: Map<string, string>;
  body: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** The "## " heading the block is under: a block waiting for an unbuilt command skips the rest of its section. */
  section: string;
}

const FENCE = /^(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;
const ATTRIBUTE = /([A-Za-z][\w-]*)(?:=("[^"]*"|\S+))?/g;
const KNOWN_ATTRIBUTES = new Set(['file', 'skip', 'needs', 'expect', 'fails']);

export function parseAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of text.matchAll(ATTRIBUTE)) {
    const [, key = '', raw = ''] = match;
    if (!KNOWN_ATTRIBUTES.has(key)) throw new Error(`unknown block attribute "${key}"`);
    attributes.set(key, raw.startsWith('"') ? raw.slice(1, -1) : raw);
  }
  return attributes;
}

function isRunnable(language: string): language is BlockLanguage {
  return (RUNNABLE_LANGUAGES as readonly string[]).includes(language);
}

/** Every sh/nginx/js block of a Markdown text, in order. Throws on an unclosed fence. */
export function extractBlocks(markdown: string, source = 'page'): WikiBlock[] {
  const lines = markdown.split('\n');
  const blocks: WikiBlock[] = [];
  let section = '';
  for (let index = 0; index < lines.length; index++) {
    if ((lines[index] ?? '').startsWith('## ')) section = (lines[index] ?? '').slice(3).trim();
    const open = FENCE.exec(lines[index] ?? '');
    if (!open) continue;
    const [, fence = '', language = '', rest = ''] = open;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !(lines[index] ?? '').startsWith(fence); index++) body.push(lines[index] ?? '');
    if (index >= lines.length) throw new Error(`${source}:${start + 1}: unclosed code block`);
    if (!isRunnable(language)) continue;
    let attributes: Map<string, string>;
    try {
      attributes = parseAttributes(rest);
    } catch (error) {
      throw new Error(`${source}:${start + 1}: ${(error as Error).message}`);
    }
    blocks.push({ language, attributes, body: body.join('\n') + '\n', line: start + 1, section });
  }
  return blocks;
}

/** The variables a page may use; nginx blocks get them substituted (nginx reads no environment). */
export const PAGE_VARIABLES = ['CA_DIR', 'PORT', 'PORT2', 'PORT3'] as const;
export type PageVariable = (typeof PAGE_VARIABLES)[number];

export function substituteVariables(text: string, values: Record<PageVariable, string>): string {
  return text.replace(/\$(CA_DIR|PORT\d?)\b/g, (_, name: PageVariable) => values[name]);
}
