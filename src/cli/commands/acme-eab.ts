import { createEab, loadEabKey, parseEabName } from '../../ca/acme/eab.js';
import { UsageError } from '../../ca/errors.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore, type StoreFlags } from '../context.js';
import { filesAndCommit } from '../json-output.js';
import { data, note, printJson, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export interface AcmeOptions extends StoreFlags {
  name?: string;
  caPassword?: string;
  json?: boolean;
}

/** `certified acme <action>`: today the one action is `eab`. */
export async function runAcme(args: string[], options: AcmeOptions, argv: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'eab' || rest.length > 0) {
    const what = action !== 'eab' ? `"${(action ?? '').slice(0, 30)}" is not an acme action` : `acme eab takes no arguments, got "${rest.join(' ').slice(0, 30)}"`;
    throw new UsageError(what, 'Example: certified acme eab --name ci');
  }
  await runAcmeEab(options, argv);
}

/**
 * `certified acme eab`: a key ID and an HMAC key for one ACME account. The HMAC key goes to
 * stdout this once (it is committed only encrypted), never to stderr or the commit.
 */
async function runAcmeEab(options: AcmeOptions, argv: string[]): Promise<void> {
  // A bad --name is refused before the intermediate's password is asked for.
  const name = options.name === undefined ? undefined : parseEabName(options.name);
  const store = openStore(options);
  const caKey = await loadEabKey(store, askPasswordFrom(options, { roles: ['ca', 'pin'] }));
  const result = await createEab(store, { ...(name === undefined ? {} : { name }), caKey, commandLine: redactedCommandLine(argv) });
  if (options.json) {
    // The first keys are those acme eab --json always printed; the change keys of docs/json.md follow.
    const { files } = filesAndCommit(store);
    printJson({ kid: result.kid, hmacKey: result.hmacKey, ...(name === undefined ? {} : { name }), path: result.path, commit: result.commit, action: 'acme-eab', files, warnings: [] });
  } else {
    data(`Key ID:   ${result.kid}\nHMAC key: ${result.hmacKey}`);
  }
  status(`Made the ACME external account binding ${result.kid} at ${shown(store.path(result.path))}; the HMAC key is shown only this once and is stored encrypted to the intermediate's key.`);
  await note(`give both to the ACME client: certbot --eab-kid=${result.kid} --eab-hmac-key=<HMAC key>, or lego --eab --kid=${result.kid} --hmac=<HMAC key>.`);
  status(`Committed as ${result.commit.slice(0, 12)}.`);
}
