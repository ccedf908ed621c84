/**
 * The tools a user would pick instead, where Debian has them: mkcert, cfssl and easy-rsa, each
 * issuing one ECDSA P-256 server certificate from a CA made once beforehand, as their manuals
 * show. None of them commits anything; certified's figure includes its git commit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, sample, scratchDir, type Row, type Sample } from './measure.js';

export interface Peer {
  name: string;
  /** Why it is not measured here (not installed), or undefined. */
  missing?: string;
  /** Makes the peer's CA once, then returns how to issue the i-th certificate. */
  prepare: () => (i: number) => Sample;
}

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): void {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
}

const mkcert: Peer = {
  name: 'mkcert',
  prepare: () => {
    const dir = scratchDir('mkcert');
    const env = { CAROOT: join(dir, 'caroot'), TRUST_STORES: 'none' };
    run('mkcert', ['-ecdsa', '-cert-file', 'first.pem', '-key-file', 'first-key.pem', 'first.example.com'], dir, env);
    return (i) => sample('mkcert', ['-ecdsa', '-cert-file', `h${i}.pem`, '-key-file', `h${i}-key.pem`, `h${i}.example.com`], { cwd: dir, env });
  },
};

const cfssl: Peer = {
  name: 'cfssl',
  prepare: () => {
    const dir = scratchDir('cfssl');
    writeFileSync(join(dir, 'ca-csr.json'), JSON.stringify({ CN: 'Bench CA', key: { algo: 'ecdsa', size: 256 } }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ signing: { profiles: { server: { usages: ['signing', 'key encipherment', 'server auth'], expiry: '8760h' } } } }));
    run('sh', ['-c', 'cfssl gencert -initca ca-csr.json | cfssljson -bare ca'], dir);
    return (i) => {
      writeFileSync(join(dir, `h${i}.json`), JSON.stringify({ CN: `h${i}.example.com`, hosts: [`h${i}.example.com`], key: { algo: 'ecdsa', size: 256 } }));
      return sample('sh', ['-c', `cfssl gencert -ca ca.pem -ca-key ca-key.pem -config config.json -profile server h${i}.json | cfssljson -bare h${i}`], { cwd: dir });
    };
  },
};

const easyRsa: Peer = {
  name: 'easy-rsa',
  prepare: () => {
    const dir = scratchDir('easy-rsa');
    mkdirSync(join(dir, 'home'));
    const easyrsa = '/usr/share/easy-rsa/easyrsa';
    const env = { EASYRSA_PKI: join(dir, 'pki'), EASYRSA_ALGO: 'ec', EASYRSA_CURVE: 'prime256v1', EASYRSA_BATCH: '1' };
    run(easyrsa, ['init-pki'], dir, env);
    run(easyrsa, ['build-ca', 'nopass'], dir, { ...env, EASYRSA_REQ_CN: 'Bench CA' });
    return (i) => sample(easyrsa, ['build-server-full', `h${i}.example.com`, 'nopass'], { cwd: dir, env });
  },
};

export const PEERS: Peer[] = [
  { ...mkcert, ...(installed('mkcert') ? {} : { missing: 'mkcert is not installed (apt-get install mkcert)' }) },
  { ...cfssl, ...(installed('cfssl') && installed('cfssljson') ? {} : { missing: 'cfssl is not installed (apt-get install golang-cfssl)' }) },
  { ...easyRsa, ...(installed('/usr/share/easy-rsa/easyrsa') ? {} : { missing: 'easy-rsa is not installed (apt-get install easy-rsa)' }) },
];

/** One row per peer: the median of `runs` issues, or why it was skipped. */
export function benchPeers(runs: number): Row[] {
  return PEERS.map((peer) => {
    const label = `${peer.name}: one ECDSA P-256 server certificate (no commit)`;
    if (peer.missing) return { label, runs: 0, note: `skipped: ${peer.missing}` };
    const issue = peer.prepare();
    return measure(label, runs, issue);
  });
}
