/**
 * The layers, checked on the source: cli -> ca -> (pki | store), trust beside them, and serve (the
 * HTTP entry point, started by cli) -> (ca | pki).
 *
 * How it reads the code: a small scanner splits each file into code, string/template text and
 * comments (regular expression literals included, so a quote inside one does not derail it), so
 * comments never count (a comment may explain which flag a function serves; only code and the text
 * it prints can name one) and `--i` (a decrement) is not a flag. What is checked:
 * - imports (static, `export ... from` and dynamic `import()`): cli/ does not import store/, pki/
 *   or trust/; ca/ does not import cli/ or serve/; pki/ and store/ import neither ca/, cli/ nor
 *   serve/; serve/ imports neither cli/ nor store/;
 * - in ca/ and serve/: no use of the globals `process` or `console`; no string or template text containing
 *   `--` followed by a letter (a flag), except the few commands of other programs listed in
 *   OTHER_PROGRAMS that a hint tells the user to run; no `CERTIFIED_` in code or text (an
 *   environment variable).
 * ARCHITECTURE_SRC points the test at another source tree (to see it fail on an old one).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = resolve(process.env.ARCHITECTURE_SRC ?? join(REPO, 'src'));

/** Flags of other programs that ca/ hints tell the user to run: they are not ours. */
const OTHER_PROGRAMS = [
  'git rm --cached',
  'git update-index --no-skip-worktree',
  '--empty-password',
  'git merge --abort',
  'git reset --merge',
  'git merge --continue',
  'git checkout --theirs',
  'git fetch --unshallow',
  'pkcs11-tool --module MODULE --list-tokens',
  'pkcs11-tool --module MODULE --list-objects --login',
  ...['cherry-pick', 'revert', 'rebase', 'am'].flatMap((operation) => [`git ${operation} --continue`, `git ${operation} --abort`]),
];
/** `--` then a letter, not inside a longer run of dashes (a PEM line like "-----BEGIN" is not a flag). */
const FLAG = /(?<![-\w])--[A-Za-z]/;

type Layer = 'cli' | 'ca' | 'pki' | 'store' | 'trust' | 'serve';

interface Text {
  text: string;
  line: number;
}

interface Scanned {
  /** The code with every comment removed and every string or template text replaced by `"<index>"`. */
  code: string;
  /** The string and template texts, in order (template parts one by one). */
  texts: Text[];
}

interface SourceFile extends Scanned {
  /** Relative to src/, like "ca/errors.ts". */
  path: string;
  layer: Layer;
}

/** After these characters (or these words) a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = /(?:^|[(,=:[!&|?{};+\-*%<>~^]|\breturn|\btypeof|\bcase|\bdelete|\bvoid|\bin|\bof)\s*$/;

export function scan(source: string): Scanned {
  let code = '';
  const texts: Text[] = [];
  let i = 0;
  let line = 1;
  /** Template nesting: for each open `${`, the brace depth at which it closes. */
  const templates: number[] = [];
  let depth = 0;
  const push = (text: string, at: number) => {
    code += `"${texts.length}"`;
    texts.push({ text, line: at });
  };
  const readTemplate = () => {
    // At the character after ` or after the } that closes a ${.
    let text = '';
    const at = line;
    while (i < source.length) {
      const c = source[i]!;
      if (c === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === '`') {
        i++;
        push(text, at);
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        i += 2;
        push(text, at);
        code += '${';
        templates.push(depth);
        depth++;
        return;
      }
      if (c === '\n') line++;
      text += c;
      i++;
    }
    push(text, at);
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      code += c;
      i++;
    } else if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const comment = source.slice(i, end < 0 ? source.length : end + 2);
      line += comment.split('\n').length - 1;
      code += ' ';
      i += comment.length;
    } else if (c === "'" || c === '"') {
      const at = line;
      let text = '';
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          text += source.slice(i, i + 2);
          i += 2;
        } else text += source[i++];
      }
      i++;
      push(text, at);
    } else if (c === '`') {
      i++;
      readTemplate();
    } else if (c === '/' && BEFORE_REGEX.test(code)) {
      // A regular expression literal: skip it (with its classes and escapes) and its flags.
      let inClass = false;
      i++;
      while (i < source.length && source[i] !== '\n') {
        const r = source[i]!;
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < source.length && /[a-z]/.test(source[i]!)) i++;
      code += '/regex/';
    } else if (c === '{') {
      depth++;
      code += c;
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (templates.length && templates[templates.length - 1] === depth) {
        templates.pop();
        code += '}';
        readTemplate();
      } else code += c;
    } else {
      code += c;
      i++;
    }
  }
  return { code, texts };
}

function sourceFiles(): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.ts')) {
        const path = relative(SRC, full).split('\\').join('/');
        files.push({ path, layer: path.split('/')[0] as Layer, ...scan(readFileSync(full, 'utf8')) });
      }
    }
  };
  walk(SRC);
  return files;
}

/** The layer each relative import of `file` reaches ("pki", "store", ...), with the import text. */
function importedLayers(file: SourceFile): { layer: string; specifier: string }[] {
  const found: { layer: string; specifier: string }[] = [];
  for (const match of file.code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\d+)"/g)) {
    const specifier = file.texts[Number(match[1])]!.text;
    if (!specifier.startsWith('.')) continue;
    const target = relative(SRC, resolve(SRC, dirname(file.path), specifier)).split('\\').join('/');
    found.push({ layer: target.split('/')[0] ?? '', specifier });
  }
  return found;
}

function violations(check: (file: SourceFile) => string[]): string[] {
  return sourceFiles().flatMap(check);
}

function importsOf(layer: Layer, forbidden: string[]): string[] {
  return violations((file) =>
    file.layer !== layer ? [] : importedLayers(file).filter((imported) => forbidden.includes(imported.layer)).map((imported) => `${file.path} imports "${imported.specifier}"`),
  );
}

describe('the scanner', () => {
  it('separates code, texts and comments, regular expressions and templates included', () => {
    const scanned = scan("const a = x--; // --flag\n/* CERTIFIED_X */ const r = /'[^']+'/g; const t = `--a ${b ? 'c' : `d${e}`} f`;\nimport { g } from './h.js';");
    assert.deepEqual(scanned.texts.map((text) => text.text), ['--a ', 'c', 'd', '', ' f', './h.js']);
    assert.doesNotMatch(scanned.code, /flag|CERTIFIED_/);
    assert.match(scanned.code, /x--;/);
    assert.equal(scanned.texts[5]!.line, 3);
  });
});

describe('architecture', () => {
  it('finds the source', () => {
    const layers = new Set(sourceFiles().map((file) => file.layer));
    for (const layer of ['cli', 'ca', 'pki', 'store']) assert.ok(layers.has(layer as Layer), `no src/${layer}/ in ${SRC}`);
  });

  it('cli/ imports only ca/ (not store/, pki/ or trust/)', () => {
    assert.deepEqual(importsOf('cli', ['store', 'pki', 'trust']), []);
  });

  it('ca/ does not import cli/ or serve/; pki/ and store/ import neither ca/, cli/ nor serve/', () => {
    assert.deepEqual([...importsOf('ca', ['cli', 'serve']), ...importsOf('pki', ['ca', 'cli', 'serve']), ...importsOf('store', ['ca', 'cli', 'serve'])], []);
  });

  it('serve/ imports neither cli/ nor store/ (it reaches the CA through ca/, as a command does)', () => {
    assert.deepEqual(importsOf('serve', ['cli', 'store', 'trust']), []);
  });

  it('ca/ and serve/ use neither process nor console', () => {
    const found = violations((file) =>
      file.layer !== 'ca' && file.layer !== 'serve' ? [] : [...file.code.matchAll(/(?<![.\w$])(process|console)\b(?!\s*:)/g)].map((match) => `${file.path} uses ${match[1]}`),
    );
    assert.deepEqual(found, []);
  });

  it('ca/ and serve/ name no flag and no environment variable', () => {
    const found = violations((file) => {
      if (file.layer !== 'ca' && file.layer !== 'serve') return [];
      const named = file.texts
        .filter(({ text }) => FLAG.test(OTHER_PROGRAMS.reduce((rest, allowed) => rest.split(allowed).join(''), text)) || text.includes('CERTIFIED_'))
        .map(({ text, line }) => `${file.path}:${line} ${JSON.stringify(text.slice(0, 100))}`);
      if (file.code.includes('CERTIFIED_')) named.push(`${file.path}: CERTIFIED_ in code`);
      return named;
    });
    assert.deepEqual(found, []);
  });
});
