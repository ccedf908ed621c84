/**
 * The classic way, scripted: an OpenSSL key, CSR and certificate signed by the same intermediate,
 * the chain file, then git add + git commit of the public files. One shell, one run.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, sample, scratchDir, type Sample } from './measure.js';

const EXTENSIONS = `[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$ENV::NAME.example.com
`;

const SCRIPT = `set -e
cd "$REPO_DIR"
case "$KEY" in
  rsa) openssl genrsa -out "private/$NAME.key" 2048 2>/dev/null ;;
  *) openssl ecparam -name prime256v1 -genkey -noout -out "private/$NAME.key" ;;
esac
openssl req -new -key "private/$NAME.key" -subj "/CN=$NAME.example.com" -out "csr/$NAME.csr"
openssl x509 -req -in "csr/$NAME.csr" -CA ca/ca.crt -CAkey ca/ca.key -days 365 -sha256 \\
  -extfile ca/ext.cnf -extensions v3 -out "certs/$NAME.crt" 2>/dev/null
cat "certs/$NAME.crt" ca/ca.crt > "certs/$NAME.chain.crt"
git add -- "certs/$NAME.crt" "certs/$NAME.chain.crt" "csr/$NAME.csr"
git commit -q -m "Issue $NAME" -- "certs/$NAME.crt" "certs/$NAME.chain.crt" "csr/$NAME.csr"
`;

/** A git repository holding a copy of the CA's intermediate, ready for the baseline runs. */
export function prepareBaseline(caDir: string): string {
  const repo = scratchDir('baseline');
  for (const dir of ['ca', 'certs', 'csr', 'private']) mkdirSync(join(repo, dir));
  copyFileSync(join(caDir, 'certs/ca.crt'), join(repo, 'ca/ca.crt'));
  copyFileSync(join(caDir, 'private/ca.key'), join(repo, 'ca/ca.key'));
  writeFileSync(join(repo, 'ca/ext.cnf'), EXTENSIONS);
  writeFileSync(join(repo, '.gitignore'), '/private/\n/ca/ca.key\n');
  git(repo, ['init', '-q']);
  git(repo, ['config', 'user.name', 'bench']);
  git(repo, ['config', 'user.email', 'bench@localhost']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'CA']);
  return repo;
}

export function baselineIssue(repo: string, name: string, key: 'ecdsa' | 'rsa'): Sample {
  return sample('sh', ['-c', SCRIPT], { cwd: repo, env: { REPO_DIR: repo, NAME: name, KEY: key } });
}
