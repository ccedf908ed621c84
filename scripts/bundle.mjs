// Bundles the CLI into dist/bundle/ (run by `npm run build` after tsc has type-checked and
// compiled to dist/). Why: Node 20 spends most of a command's start-up resolving, linking and
// compiling modules (~300 files for @peculiar/x509 and its ASN.1 packages alone). The CLI is one
// CommonJS file, cli.cjs, which bin/certified compiles from V8's code cache (made at the end of
// this build): no resolving, no linking, and almost no compiling. What only rare commands need
// (PKCS#12's node-forge, the manifest's yaml, the prompts) is bundled apart and loaded on use.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bundle');

/**
 * A source file that uses import.meta.url (to find package.json or bin/) gets the URL it has in
 * dist/, where tsc put it, not the URL of the chunk it is bundled into.
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const compiled = join(root, 'dist', relative(join(root, 'src'), args.path)).replace(/\.ts$/, '.js');
      const fromChunk = relative(outdir, compiled).split('\\').join('/');
      const url = `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`;
      // A worker script is bundled too (see WORKERS), next to the chunks: its URL stays relative to them.
      const workers = [];
      const kept = source.replace(WORKER_URL, (match) => `__certifiedWorkerUrl${workers.push(match) - 1}__`);
      const contents = kept.replaceAll('import.meta.url', url).replace(/__certifiedWorkerUrl(\d+)__/g, (_, index) => workers[Number(index)]);
      return { contents, loader: 'ts' };
    });
  },
};

/** Worker thread scripts, bundled as entry points of their own so that a worker starts as fast as the CLI. */
const WORKERS = { 'issue-worker': 'src/ca/issuing/issue-worker.ts', 'check-worker': 'src/ca/review/check-worker.ts' };
const WORKER_URL = new RegExp(`new URL\\('\\./(?:${Object.keys(WORKERS).join('|')})\\.js', import\\.meta\\.url\\)`, 'g');

/**
 * The ASN.1 packages under @peculiar/x509 define hundreds of schema classes (CMS, PKCS#12, X.509
 * attributes) at load time, and do not say that they have no other side effects, so bundlers keep
 * them all. They have none: declaring it lets esbuild drop the classes nothing uses.
 */
const PURE_PACKAGES = /^(?:@peculiar\/asn1-[a-z0-9-]+|asn1js|pvtsutils|pvutils)$/;
const pureAsn1 = {
  name: 'pure-asn1',
  setup(builder) {
    builder.onResolve({ filter: PURE_PACKAGES }, async (args) => {
      if (args.pluginData?.pure) return undefined;
      const resolved = await builder.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { pure: true } });
      if (resolved.errors.length) return { errors: resolved.errors };
      return { path: resolved.path, sideEffects: false };
    });
  },
};

/**
 * Packages only rare commands load (`import()` in src), each bundled into a file of its own: in the
 * CLI's file, they would more than double what every command reads and deserializes. `only`: the
 * exports used (the prompts package also holds an editor prompt with its own charset tables).
 */
const APART = {
  'node-forge': { file: 'forge' },
  yaml: { file: 'yaml' },
  '@inquirer/prompts': { file: 'prompts', only: ['confirm', 'input', 'password'] },
};
const loadedApart = {
  name: 'loaded-apart',
  setup(builder) {
    const filter = new RegExp(`^(?:${Object.keys(APART).map((name) => name.replace('/', '\\/')).join('|')})$`);
    builder.onResolve({ filter }, (args) => ({ path: `./${APART[args.path].file}.cjs`, external: true }));
  },
};
const apartEntry = (name, { file, only }) => ({
  contents: only ? `export { ${only.join(', ')} } from ${JSON.stringify(name)};` : `module.exports = require(${JSON.stringify(name)});`,
  resolveDir: root,
  sourcefile: `${file}-entry.${only ? 'mjs' : 'cjs'}`,
});

/**
 * The CLI's entry: @peculiar/x509's tsyringe checks for the reflect-metadata polyfill when it
 * loads, so the polyfill runs first, before any module that imports the library.
 */
const cliEntry = { contents: "import 'reflect-metadata';\nimport './src/cli/main.ts';\n", resolveDir: root, sourcefile: 'cli-entry.ts', loader: 'ts' };

/** In a CommonJS file, import.meta.url (see keepImportMetaUrl) is the file's own URL. */
const cjsImportMetaUrl = {
  define: { 'import.meta.url': '__certifiedFileUrl' },
  banner: { js: "var __certifiedFileUrl = require('node:url').pathToFileURL(__filename).href;" },
};

const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', legalComments: 'none', logLevel: 'warning', metafile: true };
/** For what bundles npm packages: those that ship both prefer their ES module build (tree-shakeable). */
const withPackages = { ...common, mainFields: ['module', 'main'] };
const pure = process.env.BUNDLE_NO_PURE ? [] : [pureAsn1];

await rm(outdir, { recursive: true, force: true });
const cli = build({
  ...withPackages,
  stdin: cliEntry,
  outfile: join(outdir, 'cli.cjs'),
  format: 'cjs',
  ...cjsImportMetaUrl,
  // import() becomes require(): the launcher compiles cli.cjs as a script, which has no ES module loader.
  supported: { 'dynamic-import': false },
  plugins: [keepImportMetaUrl, loadedApart, ...pure],
  // pkcs11js is a native addon (an optional dependency), required at run time only when a token key is used.
  external: ['pkcs11js'],
});
const apart = Object.entries(APART).map(([name, apartSpec]) =>
  build({ ...withPackages, stdin: apartEntry(name, apartSpec), outfile: join(outdir, `${apartSpec.file}.cjs`), format: 'cjs' }),
);

/** Worker thread scripts, each one ES module file that starts as fast as the CLI. */
const workers = build({
  ...withPackages,
  entryPoints: WORKERS,
  outdir,
  format: 'esm',
  // CommonJS packages inside an ES module bundle still need require() for Node's built-ins.
  banner: { js: "import { createRequire as __certifiedRequire } from 'node:module';\nconst require = __certifiedRequire(import.meta.url);" },
  plugins: [keepImportMetaUrl, ...pure],
  // Left external, the reflect-metadata polyfill stays an ES import that runs before the library (see cliEntry).
  external: ['reflect-metadata', 'pkcs11js'],
});


/**
 * `certified show FILE`, the command git runs once per certificate, CSR and CRL of a diff (its
 * textconv): one small file that loads no X.509 library, which bin/certified requires for exactly
 * that command line, since these run hundreds of times in a row.
 */
const show = build({ ...common, outdir, format: 'cjs', outExtension: { '.js': '.cjs' }, entryPoints: { show: 'src/cli/show-quickly.ts' } });

// The build's id: bin/certified-textconv keys its cache on it (any change to what the bundle prints
// starts a new cache), and bin/certified its code cache.
const outputs = await Promise.all([cli, ...apart, workers, show]);
const digest = createHash('sha256');
for (const result of outputs) {
  for (const file of Object.keys(result.metafile.outputs).filter((name) => /\.c?js$/.test(name)).sort()) digest.update(await readFile(join(root, file)));
}
await writeFile(join(outdir, 'textconv-cache-key'), `${digest.digest('hex').slice(0, 16)}\n`);

/**
 * bin/certified compiles cli.cjs and show.cjs from V8's code caches for the Node that runs it,
 * cli.cjs.<node>.v8-cache and show.cjs.<node>.v8-cache, and writes each when it finds none. V8
 * keeps in it what a run compiled, so the build makes them with the commands run most: it makes a
 * CA in a scratch directory, then issues from it with no cache, which leaves the cache of issuing,
 * then shows the chain file, as git's textconv does. A build that cannot do so (no git, say) still
 * works: the first command run writes the cache.
 */
async function trainCodeCache() {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const bin = join(root, 'bin/certified');
  const caches = async () => (await readdir(outdir)).filter((name) => name.endsWith('.v8-cache')).map((name) => join(outdir, name));
  const scratch = mkdtempSync(join(tmpdir(), 'certified-build-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CERTIFIED_')));
  env.CERTIFIED_ROOT_PASSWORD = randomBytes(24).toString('base64');
  const run = (args) => spawnSync(process.execPath, [bin, ...args], { cwd: scratch, env, stdio: 'ignore', timeout: 60_000 }).status;
  try {
    const made = run(['--ca', 'CN=Code Cache CA']) === 0;
    for (const cache of await caches()) await rm(cache, { force: true });
    if (!made || run(['CN=host.example.com']) !== 0) console.warn('bundle: could not issue a certificate to make the code cache; the first command run will');
    else if (run(['show', 'etc/ssl/certs/host.example.com.chain.crt']) !== 0) console.warn('bundle: could not show a certificate to make its code cache; the first run of show will');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
await trainCodeCache();
