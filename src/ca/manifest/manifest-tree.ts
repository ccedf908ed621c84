/**
 * certificates.yaml as a plain tree with line numbers, which the manifest's checks read. The
 * common shape (block maps of one-line flow maps or block entries, plain or simply quoted
 * scalars, comments) is read by readCommonShape in one pass; anything else is left to the `yaml`
 * package, whose document (and errors) toTree turns into the same tree. On the bench machine, a
 * 10,000-entry manifest took 3 to 10 s in parseDocument (its duplicate-key check alone is
 * quadratic) and 0.1 to 0.2 s here.
 */

/** A node: `line` is where it starts (1-based), undefined where the YAML document has no range. */
export type TreeNode =
  | { kind: 'map'; line: number | undefined; pairs: TreePair[] }
  | { kind: 'seq'; line: number | undefined; items: (TreeNode | undefined)[] }
  | { kind: 'scalar'; line: number | undefined; value: unknown }
  /** An alias, or a pair inside a sequence: nothing a manifest can use. */
  | { kind: 'other'; line: number | undefined };

/** `key` as text ('' for a key that is not a scalar). */
export interface TreePair {
  key: string;
  keyLine: number | undefined;
  value: TreeNode | undefined;
}

type Yaml = typeof import('yaml');
type YamlNode = unknown;

/** The tree of a document the `yaml` package composed; `lineOf` turns an offset into a line. */
export function toTree(yaml: Yaml, node: YamlNode, lineOf: (offset: number) => number): TreeNode | undefined {
  if (node === null || node === undefined) return undefined;
  const range = typeof node === 'object' && 'range' in node ? (node as { range?: [number, number, number] }).range : undefined;
  const line = range ? lineOf(range[0]) : undefined;
  if (yaml.isMap(node)) {
    return {
      kind: 'map',
      line,
      pairs: node.items.map((pair) => {
        const key = pair.key as YamlNode;
        const keyRange = key && typeof key === 'object' && 'range' in key ? (key as { range?: [number, number, number] }).range : undefined;
        return {
          key: yaml.isScalar(key) ? String(key.value) : '',
          keyLine: keyRange ? lineOf(keyRange[0]) : undefined,
          value: toTree(yaml, pair.value, lineOf),
        };
      }),
    };
  }
  if (yaml.isSeq(node)) return { kind: 'seq', line, items: node.items.map((item) => toTree(yaml, item, lineOf)) };
  if (yaml.isScalar(node)) return { kind: 'scalar', line, value: node.value };
  return { kind: 'other', line };
}

/** Thrown inside readCommonShape: the text is not of the common shape (which is no error). */
class NotCommon extends Error {}
const notCommon = (): never => {
  throw new NotCommon();
};

/**
 * A plain scalar made only of these characters, not starting with an indicator, resolves in
 * YAML 1.2's core schema to a string, unless it reads as null, a boolean or a number (below).
 */
const PLAIN = /^[A-Za-z0-9_.][A-Za-z0-9_.\-/@=+]*(?: [A-Za-z0-9_.\-/@=+]+)*$/;
const NOT_STRING = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
];
const DECIMAL = /^[0-9]{1,15}$/;
/** Quoted scalars without escapes, quotes or anything YAML folds or rejects inside. */
const DOUBLE_QUOTED = /^"([^"\\]*)"$/;
const SINGLE_QUOTED = /^'([^']*)'$/;
const KEY = /^([A-Za-z0-9_][A-Za-z0-9_.\-]*):(?: (.*))?$/;

function scalarValue(text: string): unknown {
  const quoted = DOUBLE_QUOTED.exec(text) ?? SINGLE_QUOTED.exec(text);
  if (quoted) return /[\t\n\r]/.test(quoted[1] ?? '') ? notCommon() : quoted[1];
  if (!PLAIN.test(text)) return notCommon();
  // Most scalars start with a letter no null, boolean or number starts with.
  if (/^[A-Za-z_]/.test(text) && !/^[nNtTfF]/.test(text)) return text;
  if (!NOT_STRING.some((pattern) => pattern.test(text))) return text;
  if (DECIMAL.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  // Other numbers, nulls and spellings of booleans: the yaml package decides.
  return notCommon();
}

/** One line of flow collections and scalars, as YAML reads it, or NotCommon. */
class FlowReader {
  private at = 0;
  constructor(
    private readonly text: string,
    private readonly line: number,
  ) {}

  read(): TreeNode {
    const node = this.node();
    if (this.at !== this.text.length) notCommon();
    return node;
  }

  private skipSpaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  private node(): TreeNode {
    this.skipSpaces();
    const open = this.text[this.at];
    if (open === '{' || open === '[') {
      this.at++;
      const pairs: TreePair[] = [];
      const items: TreeNode[] = [];
      const close = open === '{' ? '}' : ']';
      this.skipSpaces();
      if (this.text[this.at] === close) {
        this.at++;
      } else {
        for (;;) {
          if (open === '{') {
            this.skipSpaces();
            const key = this.scalarText(':');
            if (this.text[this.at] !== ':' || this.text[this.at + 1] !== ' ') notCommon();
            this.at++;
            const keyValue = scalarValue(key);
            if (typeof keyValue !== 'string' || pairs.some((pair) => pair.key === keyValue)) notCommon();
            pairs.push({ key: keyValue as string, keyLine: this.line, value: this.node() });
          } else {
            items.push(this.node());
          }
          this.skipSpaces();
          const next = this.text[this.at++];
          if (next === close) break;
          if (next !== ',') notCommon();
        }
      }
      this.skipSpaces();
      return open === '{' ? { kind: 'map', line: this.line, pairs } : { kind: 'seq', line: this.line, items };
    }
    const value = scalarValue(this.scalarText(''));
    this.skipSpaces();
    return { kind: 'scalar', line: this.line, value };
  }

  /** Up to the next `,`, `]`, `}` (or `stop`), trailing spaces dropped. */
  private scalarText(stop: string): string {
    const start = this.at;
    const first = this.text[this.at];
    if (first === '"' || first === "'") {
      const end = this.text.indexOf(first, this.at + 1);
      if (end < 0) notCommon();
      this.at = end + 1;
      this.skipSpaces();
      return this.text.slice(start, end + 1);
    }
    while (this.at < this.text.length && !',]}'.includes(this.text[this.at]!) && this.text[this.at] !== stop) this.at++;
    const text = this.text.slice(start, this.at).trimEnd();
    return text;
  }
}

interface Line {
  number: number;
  indent: number;
  text: string;
}

/**
 * The tree of `text` when it has the common shape (and no error YAML would report), otherwise
 * undefined: then the yaml package reads it.
 */
export function readCommonShape(text: string): TreeNode | undefined {
  // Tabs, CRs, anchors, aliases, tags, block scalars, directives, escapes.
  if (/[\t\r&*!|>%`?\\]/.test(text)) return undefined;
  const lines: Line[] = [];
  for (const [index, whole] of text.split('\n').entries()) {
    let raw = whole;
    if (raw.includes('#')) {
      // A comment starts at a "#" after a space, outside quotes: on a line with quotes, YAML decides.
      if (/["']/.test(raw)) return undefined;
      const comment = raw.search(/(?:^| )#/);
      if (comment >= 0) raw = raw.slice(0, comment);
    }
    const body = raw.trimStart();
    if (body === '') continue;
    lines.push({ number: index + 1, indent: raw.length - body.length, text: body.trimEnd() });
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const [node, next] = blockMap(lines, 0, 0);
    return next === lines.length ? node : undefined;
  } catch (error) {
    if (error instanceof NotCommon) return undefined;
    throw error;
  }
}

/** The block map whose keys are at `indent`, from lines[start]; returns it and the next line. */
function blockMap(lines: Line[], start: number, indent: number): [TreeNode, number] {
  const pairs: TreePair[] = [];
  const seen = new Set<string>();
  let at = start;
  while (at < lines.length && lines[at]!.indent === indent) {
    const line = lines[at]!;
    const match = KEY.exec(line.text) ?? notCommon();
    const key = scalarValue(match[1]!);
    if (typeof key !== 'string' || seen.has(key)) notCommon();
    seen.add(key as string);
    at++;
    const rest = match[2]?.trim();
    if (rest) {
      pairs.push({ key: key as string, keyLine: line.number, value: new FlowReader(rest, line.number).read() });
      continue;
    }
    const child = lines[at];
    if (!child || child.indent < indent || (child.indent === indent && !child.text.startsWith('- '))) notCommon();
    const [value, next] = child!.text.startsWith('- ') ? blockSeq(lines, at, child!.indent) : blockMap(lines, at, child!.indent);
    pairs.push({ key: key as string, keyLine: line.number, value });
    at = next;
  }
  if (at < lines.length && lines[at]!.indent > indent) notCommon();
  return [{ kind: 'map', line: lines[start]!.number, pairs }, at];
}

/** A block sequence of one-line items (`- value`) at `indent`. */
function blockSeq(lines: Line[], start: number, indent: number): [TreeNode, number] {
  const items: TreeNode[] = [];
  let at = start;
  while (at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith('- ')) {
    const line = lines[at]!;
    const item = line.text.slice(2).trim();
    if (item === '' || item.startsWith('- ') || KEY.test(item)) notCommon();
    items.push(new FlowReader(item, line.number).read());
    at++;
  }
  if (at < lines.length && lines[at]!.indent > indent) notCommon();
  return [{ kind: 'seq', line: lines[start]!.number, items }, at];
}
