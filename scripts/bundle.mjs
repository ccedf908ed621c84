// Bundles the CLI into dist/bundle/ (run by `npm run build` after tsc has type-checked and
// compiled to dist/). Why: Node 20 spends most of a command's start-up resolving and compiling the
// ~300 files of @peculiar/x509 and its ASN.1 packages; one file per lazily loaded command is far
// cheaper. Each command stays its own chunk, so `--version` and help still load only commander.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
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

await rm(outdir, { recursive: true, force: true });
const cli = build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts', ...WORKERS },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Packages that ship both prefer their ES module build (tree-shakeable, no CJS wrapper).
  mainFields: ['module', 'main'],
  // CommonJS packages inside an ES module bundle still need require() for Node's built-ins.
  banner: { js: "import { createRequire as __certifiedRequire } from 'node:module';\nconst require = __certifiedRequire(import.meta.url);" },
  plugins: [keepImportMetaUrl, ...(process.env.BUNDLE_NO_PURE ? [] : [pureAsn1])],
  // @peculiar/x509's tsyringe checks for the reflect-metadata polyfill when it loads. Bundled, the
  // polyfill (a CommonJS package) would run where src/pki/x509.ts imports it, which esbuild may
  // place after the library; left external, it stays an ES import that runs before the chunk.
  // pkcs11js is a native addon (an optional dependency), required at run time only when a token key is used.
  external: ['reflect-metadata', 'pkcs11js'],
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

/** What the two small programs below share: one self-contained file each, for Node 20. */
const standalone = { absWorkingDir: root, outdir, bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', legalComments: 'none', logLevel: 'warning', metafile: true };

/**
 * `certified show FILE`, the command git runs once per certificate, CSR and CRL of a diff (its
 * textconv): one file of its own that loads no X.509 library, which bin/certified imports for
 * exactly that command line. One file, not chunks shared with the CLI: each module costs Node's
 * loader a resolution and a link, and these run hundreds of times in a row.
 */
const show = build({ ...standalone, entryPoints: { show: 'src/cli/show-quickly.ts' }, format: 'esm' });

/** The same, as the CommonJS program bin/certified-textconv runs: Node starts it faster than an ES module. */
const textconv = build({ ...standalone, entryPoints: { textconv: 'src/cli/textconv.ts' }, outExtension: { '.js': '.cjs' }, format: 'cjs' });

// What bin/certified-textconv keys its cache on: any change to what the bundle prints starts a new cache.
const outputs = await Promise.all([cli, show, textconv]);
const digest = createHash('sha256');
for (const result of outputs) {
  for (const file of Object.keys(result.metafile.outputs).filter((name) => /\.c?js$/.test(name)).sort()) digest.update(await readFile(join(root, file)));
}
await writeFile(join(outdir, 'textconv-cache-key'), `${digest.digest('hex').slice(0, 16)}\n`);
