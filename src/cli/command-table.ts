import { Option } from 'commander';
import * as flag from './flags.js';

export type Run = (args: string[], options: never, argv: string[]) => Promise<void>;

export interface CommandSpec {
  name: string;
  /** Lowercase, no period. */
  summary: string;
  /** Name, description, and the values it takes when they are a fixed set (commander refuses others). */
  arguments?: [name: string, description: string, choices?: readonly string[]][];
  options: Option[];
  /** Options this command takes only together with another: the attribute name -> the options that need it. */
  needs?: Record<string, string[]>;
  /** Extra words after the declared arguments reach the command, which explains the refusal itself. */
  excessArguments?: boolean;
  examples: string[];
  /** Not listed in the help: run by git, not by people (the CRL merge driver). */
  hidden?: boolean;
  /** Loads the command module only when the command runs, so --version and help stay fast. */
  load: (options: Record<string, unknown>) => Promise<Run>;
}

/** The shells `certified completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const SUBJECT: [string, string] = ['[subject...]', 'subject attributes (C= ST= L= O= OU= CN=) and +names: DNS, IPv4/IPv6, e-mail, +URI:uri'];
const TARGET: [string, string] = ['[subject...]', 'CN=.. of the certificate (or --name)'];

/** Every command, with only the options its module reads. Built fresh per program: commander keeps parse state on options. */
export function commandSpecs(): CommandSpec[] {
  return [
    {
      name: 'init',
      summary: 'make the CA (a root and an intermediate), a sub-CA with --issuer, a CA for another engine\'s key with --csr, or a new intermediate after the old one was revoked',
      arguments: [['[subject...]', 'the CA subject (C= ST= L= O= OU= CN=)']],
      options: [
        // A sub-CA has no intermediate and inherits no URLs or name constraints from these options.
        flag
          .issuer('make a sub-CA signed by this CA (by CN or file name) instead of the root')
          .conflicts(['intermediatePassword', 'rootKey', 'intermediateKey', 'crlUrl', 'rootCrlUrl', 'ocspUrl', 'rootCrlDays']),
        new Option('--csr <file>', "with --issuer: sign the CA certificate of another engine's key (Vault, step-ca, cert-manager, AWS Private CA) from its CSR; certified keeps no key and no CRL for it")
          .conflicts(['password', 'key', 'keyType', 'bits']),
        new Option('--pathlen <n>', 'with --csr: how many CAs may stand below the new CA (default 0: it issues leaves only)'),
        flag.name('with --issuer: file name for the sub-CA (default: the CN, lower-case, spaces as dashes)'),
        flag.keyType(),
        flag.bits(),
        flag.days('validity in days (default 3650)'),
        flag.password('with --issuer: encrypt the sub-CA key (then it is committed)'),
        flag.caPassword('with --issuer: password of the issuing CA key'),
        flag.rootPassword('password of the root key (encrypts a new root)'),
        flag.intermediatePassword(),
        new Option('--root-key <uri>', "keep the root's key on a PKCS#11 token: pkcs11:token=..;object=.. (made there if it has none)").conflicts('rootPassword'),
        new Option('--intermediate-key <uri>', "keep the intermediate's key on a PKCS#11 token (made there if it has none)").conflicts('intermediatePassword'),
        new Option('--key <uri>', "with --issuer: keep the sub-CA's key on a PKCS#11 token (made there if it has none)").conflicts('password'),
        ...flag.token(),
        flag.crlUrl(),
        flag.rootCrlUrl(),
        flag.ocspUrl(),
        flag.rootCrlDays("days the root's CRLs stay current, saved as rootCrlDays (default 365; the root key stays offline between them)"),
        flag.permitDns(),
        flag.permitIp(),
        flag.permitEmail(),
        flag.dryRun(),
        flag.jsonChange(),
        ...flag.store(),
      ],
      needs: { issuer: ['name', 'password', 'caPassword', 'key', 'csr'], csr: ['pathlen'] },
      examples: [
        'certified init C=US O=Example CN="Example CA" --root-password -',
        'certified init --permit-dns example.com --permit-ip 10.0.0.0/8 CN="Example CA"',
        'certified init --issuer ca CN="Team CA" --password -',
        'certified init --issuer ca --key "pkcs11:token=ca;object=team" CN="Team CA"',
        'certified init --csr vault.csr --issuer ca --name vault --permit-dns .svc.example.com',
        'certified --ca --csr engine.csr --issuer root-ca --pathlen 1 --root-password -',
        'certified init --root-password -',
      ],
      load: async () => (await import('./commands/init-ca.js')).runInitCa,
    },
    {
      name: 'issue',
      summary: 'issue a certificate and its key from the intermediate or a sub-CA',
      arguments: [SUBJECT],
      options: [flag.issuer(), ...flag.leaf(), flag.password('encrypt the new key (then it is committed)'), flag.caPassword(), flag.dryRun(), flag.jsonChange(), ...flag.token(), ...flag.store()],
      examples: [
        'certified issue CN=host.example.com +alt.example.com +10.0.0.1',
        'certified issue --client CN=alice +alice@example.com --days 90',
        'certified issue --bits 3072 --name web CN="Web frontend" +web.example.com',
        'certified issue --issuer "Team CA" CN=svc.team.example.com',
        'certified CN=host.example.com',
      ],
      load: async () => (await import('./commands/issue.js')).runIssue,
    },
    {
      name: 'revoke',
      summary: 'revoke a certificate (with --ca: the intermediate) and republish the CRL',
      arguments: [TARGET],
      options: [
        new Option('--ca', 'revoke the intermediate (the root signs the CRL); issuing stops until "certified init" makes a new one').conflicts([
          'name',
          'issuer',
          'caPassword',
          'serial',
        ]),
        flag.certificate('the certificate to revoke'),
        new Option('--serial <hex>', 'the certificate with this serial, whatever its name (a duplicate left by a merge)').conflicts('name'),
        flag.issuer('the CA that issued it, by CN or file name'),
        flag.reason(),
        flag.crlDays(),
        flag.caPassword(),
        flag.rootPassword('password of the root key (when the root signs the CRL)'),
        new Option('--yes', 'do not ask for confirmation on a terminal'),
        flag.dryRun(),
        flag.jsonChange(),
        ...flag.token(), ...flag.store(),
      ],
      examples: [
        'certified revoke --reason keyCompromise CN=host.example.com',
        'certified revoke --name web',
        'certified revoke --serial 3ac3526a3c731e42821fe4bb72a6950e',
        'certified revoke --ca --root-password -',
      ],
      load: async (options) =>
        options.ca
          ? (await import('./commands/revoke-intermediate.js')).runRevokeIntermediate
          : (await import('./commands/revoke.js')).runRevoke,
    },
    {
      name: 'renew',
      summary: 'issue a new certificate with the same names, superseding the old one',
      arguments: [['[subject...]', 'CN=.. (or --name)']],
      options: [
        flag.certificate('the certificate to renew'),
        flag.issuer('issue the new one from this CA (by CN or file name), e.g. when its own CA was revoked'),
        new Option('--reuse-key', 'keep the same key'),
        flag.days('validity in days'),
        flag.password('password of the certificate key'),
        flag.caPassword(),
        new Option('--yes', 'do not ask for confirmation on a terminal'),
        flag.dryRun(),
        flag.jsonChange(),
        ...flag.token(), ...flag.store(),
      ],
      examples: ['certified renew CN=host.example.com', 'certified renew --name web --reuse-key', 'certified renew --issuer ca --name build.example.com'],
      load: async () => (await import('./commands/renew.js')).runRenew,
    },
    {
      name: 'rotate-root',
      summary: 'replace the root: a new root, a cross-certificate from the old one, the intermediate moved under it (--finish ends the bridge)',
      arguments: [['[subject...]', 'attributes of the new root (default: the old root\'s, CN with this year)']],
      options: [
        new Option('--finish', 'every client trusts the new root: drop the cross-certificate from chain files and the old root from certs/roots.crt').conflicts([
          'days',
          'keyType',
          'bits',
          'rootPassword',
          'newRootPassword',
          'rootKey',
          'rootCrlUrl',
        ]),
        flag.keyType(),
        flag.bits(),
        flag.days('validity of the new root and the intermediate in days (default 3650)'),
        flag.rootPassword('password of the old root key'),
        new Option('--new-root-password <password>', 'encrypts the new root key (and the old one, which moves to private/root-ca.old.key)'),
        new Option('--root-key <uri>', "keep the new root's key on a PKCS#11 token (made there if it has none)").conflicts('newRootPassword'),
        new Option('--root-crl-url <url>', "the new root's CRL URL (default: the old one's with root-ca.2.crl; the old root keeps its URL)"),
        flag.dryRun(),
        flag.jsonChange(),
        ...flag.token(),
        ...flag.store(),
      ],
      examples: ['certified rotate-root --root-password - CN="Example Root 2027"', 'certified rotate-root --finish'],
      load: async () => (await import('./commands/rotate-root.js')).runRotateRoot,
    },
    {
      name: 'crl',
      summary: 're-sign the CRLs before they expire (for cron or CI)',
      options: [
        flag.issuer('only this CA'),
        flag.crlDays('days until the next update of every CRL but the root\'s (default: crlDays of certified.json, 7)'),
        flag.rootCrlDays('days until the next update of the root\'s CRL (default: rootCrlDays of certified.json, 365)'),
        flag.caPassword(),
        flag.rootPassword('password of the root key (for the root CRL)'),
        flag.dryRun('show the CRLs that would be made, write nothing'),
        flag.jsonChange(),
        ...flag.token(), ...flag.store(),
        flag.quiet(),
      ],
      examples: ['certified crl', 'certified crl --issuer ca --crl-days 14'],
      load: async () => (await import('./commands/crl.js')).runCrl,
    },
    {
      name: 'sign',
      summary: 'sign a CSR made elsewhere',
      arguments: [['<csr-file>', 'the certificate signing request (PEM or DER)']],
      excessArguments: true,
      options: [
        flag.name('file name for the certificate (default: from the CSR)'),
        flag.client(),
        flag.server(),
        flag.days('validity in days (default 365)'),
        flag.issuer(),
        flag.caPassword(),
        flag.dryRun(),
        flag.jsonChange(),
        ...flag.token(), ...flag.store(),
      ],
      examples: ['certified sign request.csr --server --days 90', 'certified sign request.csr --name vendor --issuer "Team CA"'],
      load: async () => (await import('./commands/sign-csr.js')).runSignCsr,
    },
    {
      name: 'request',
      summary: 'make a key and a CSR (csr/NAME.csr) for another CA to sign',
      arguments: [SUBJECT],
      options: [flag.name(), flag.keyType(), flag.bits(), flag.password('encrypt the new key (then it is committed)'), flag.dryRun(), flag.jsonChange(), ...flag.store()],
      examples: ['certified request CN=vendor.example.com +www.vendor.example.com', 'certified request --bits 4096 O="Vendor Inc" CN=vendor.example.com'],
      load: async () => (await import('./commands/request.js')).runRequest,
    },
    {
      name: 'self-signed',
      summary: 'make a self-signed certificate (no CA needed)',
      arguments: [SUBJECT],
      options: [...flag.leaf(), flag.password('encrypt the new key (then it is committed)'), flag.dryRun(), flag.jsonChange(), ...flag.store()],
      examples: ['certified self-signed CN=dev.local +localhost +127.0.0.1', 'certified self-signed --server --days 30 CN=test.example.com'],
      load: async () => (await import('./commands/self-signed.js')).runSelfSigned,
    },
    {
      name: 'ls',
      summary: 'list the certificates',
      options: [
        flag.json('an array of objects, for scripts'),
        new Option('--expiring <days>', 'only those expiring within DAYS; exit 1 if any'),
        new Option('--all', 'also the revoked and superseded ones (--json always lists them)'),
        flag.issuer('only those issued by this CA'),
        ...flag.store(),
      ],
      examples: ['certified ls', 'certified ls --json', 'certified ls --expiring 30'],
      load: async () => (await import('./commands/ls.js')).runLs,
    },
    {
      name: 'show',
      summary: 'decode a certificate, CSR or CRL',
      arguments: [['<file-or-name>', 'a file, or the name of a certificate in the CA']],
      options: [flag.json('as JSON'), ...flag.store()],
      examples: ['certified show host.example.com', 'certified show crl/ca.crl --json'],
      load: async () => (await import('./commands/show.js')).runShow,
    },
    {
      name: 'log',
      summary: "the CA's history from git",
      options: [flag.json('as JSON'), ...flag.store()],
      examples: ['certified log', 'certified log --json'],
      load: async () => (await import('./commands/log.js')).runLog,
    },
    {
      name: 'check',
      summary: 'check the CA for consistency and policy (for CI)',
      options: [
        flag.json('findings as JSON'),
        new Option('--since <ref>', "only what changed since the merge base with REF (a pull request's base, e.g. origin/main) and what those changes affect"),
        ...flag.token(),
        ...flag.store(),
        flag.quiet(),
      ],
      examples: ['certified check', 'certified check --json', 'certified check --since origin/main', 'certified check --pin - < pin.txt'],
      load: async () => (await import('./commands/check.js')).runCheck,
    },
    {
      name: 'plan',
      summary: 'show what "apply" would do to match certificates.yaml',
      options: [flag.json('as JSON'), ...flag.store(), flag.quiet()],
      examples: ['certified plan', 'certified plan --json'],
      load: async () => (await import('./commands/plan.js')).runPlan,
    },
    {
      name: 'apply',
      summary: 'issue, renew and revoke to match certificates.yaml',
      options: [
        new Option('--yes', 'do not ask for confirmation'),
        new Option('--commit-each', 'one commit per action'),
        new Option('--allow-revoke', 'allow revoking certificates removed from the manifest'),
        flag.caPassword(),
        flag.jsonChange(),
        ...flag.token(), ...flag.store(),
        flag.quiet(),
      ],
      examples: ['certified apply --yes', 'certified apply --yes --allow-revoke --commit-each'],
      load: async () => (await import('./commands/apply.js')).runApply,
    },
    {
      name: 'export',
      summary: 'export a certificate with its key and chain',
      arguments: [['<name>', 'the certificate']],
      options: [
        new Option('--p12', 'as PKCS#12'),
        new Option('--p12-password <password>', 'password of the .p12 file'),
        flag.password('password of the certificate key, if encrypted'),
        new Option('--out <file>', 'where to write it (default: NAME.p12)'),
        flag.jsonChange(),
        ...flag.store(),
      ],
      examples: ['certified export alice --p12 --p12-password - --out alice.p12'],
      load: async () => (await import('./commands/export.js')).runExport,
    },
    {
      name: 'trust',
      summary: 'install the root certificate into trust stores',
      options: [
        new Option('--system', 'the system store (Debian/Ubuntu, RHEL/Fedora)'),
        new Option('--nss', 'the NSS databases of Chrome and Firefox'),
        new Option('--java', "Java's cacerts"),
        new Option('--java-keystore <file>', "a Java keystore instead of the JDK's cacerts (password: CERTIFIED_JAVA_STOREPASS, default changeit)"),
        new Option('--uninstall', 'remove it again'),
        new Option('--root <dir>', 'treat DIR as the file system root (for tests and images)'),
        flag.json('print the stores changed as one JSON document, and a failure as a JSON error (for scripts)'),
        ...flag.store(),
        flag.quiet(),
      ],
      examples: ['certified trust --nss', 'certified trust --system --uninstall'],
      load: async () => (await import('./commands/trust.js')).runTrust,
    },
    {
      name: 'serve',
      summary: 'serve CRLs and answer OCSP requests, and ACME over HTTPS',
      options: [
        new Option('--listen <address>', 'host:port for CRLs and OCSP over plain HTTP (default 127.0.0.1:8080 when --acme-listen is not given)'),
        new Option('--acme-listen <address>', 'host:port for ACME over HTTPS (https://HOST:PORT/acme/directory); needs an "acme:" section in certificates.yaml'),
        new Option('--acme-name <name>', 'the name ACME clients connect to, in the URLs and the server certificate (default: the host of --acme-listen)'),
        new Option('--acme-http-port <port>', 'port http-01 validations connect to (default 80)'),
        new Option('--acme-tls-port <port>', 'port tls-alpn-01 validations connect to (default 443)'),
        new Option('--acme-dns <address>', 'host:port of the DNS server dns-01 validations ask (default: the system resolver)'),
        new Option('--acme-resolve <rule>', 'NAME=IP: validations of NAME connect to IP; *.domain=IP allowed (repeatable)').argParser((value: string, previous: string[] = []) => [...previous, value]),
        flag.caPassword('password of the issuing CA keys'),
        flag.rootPassword('password of the root key, to answer OCSP for the CAs it issued (never prompted)'),
        flag.json('once listening, print one JSON line with the URLs served; a failure to start as a JSON error (for scripts)'),
        ...flag.token(), ...flag.store(),
      ],
      needs: { acmeListen: ['acmeName', 'acmeHttpPort', 'acmeTlsPort', 'acmeDns', 'acmeResolve'] },
      examples: ['certified serve --listen 127.0.0.1:8080', 'certified serve --acme-listen 0.0.0.0:8443 --acme-name ca.internal.example.com'],
      load: async () => (await import('./commands/serve.js')).runServe,
    },
    {
      name: 'acme',
      summary: 'acme eab: make an External Account Binding (key ID and HMAC key) for an ACME client',
      arguments: [['<action>', '"eab": make an External Account Binding for one ACME account']],
      options: [
        flag.name('who the binding is for, a label kept with it'),
        flag.caPassword('password of the intermediate key (the HMAC key is stored encrypted to it)'),
        flag.json('the key ID, HMAC key and what was committed as one JSON document, and a failure as a JSON error (for scripts)'),
        ...flag.store(),
      ],
      examples: ['certified acme eab --name ci', 'certified acme eab --name build-farm --ca-password - --json'],
      load: async () => (await import('./commands/acme-eab.js')).runAcme,
    },
    {
      name: 'yaml',
      summary: 'print certificates and keys as Hiera-compatible YAML',
      options: [flag.password('password to decrypt encrypted keys'), flag.json('the same certificates and keys as one JSON object, for scripts'), ...flag.store()],
      examples: ['certified yaml > hieradata/certificates.yaml'],
      load: async () => (await import('./commands/yaml.js')).runYaml,
    },
    {
      name: 'git-setup',
      summary: 'make git diff and log show decoded certificates in this clone',
      options: [flag.jsonChange(), ...flag.store()],
      examples: ['certified git-setup'],
      load: async () => (await import('./commands/git-setup.js')).runGitSetup,
    },
    {
      name: 'completion',
      summary: 'print a script that completes commands, options and certificate names in bash, zsh or fish',
      arguments: [['<shell>', 'the shell to complete in', SHELLS]],
      options: [flag.json('the script in a JSON document ({ "shell", "script" }), for tools that install it')],
      examples: [
        'source <(certified completion bash)',
        'certified completion bash > ~/.local/share/bash-completion/completions/certified',
        'certified completion zsh > "${fpath[1]}/_certified"',
        'certified completion fish > ~/.config/fish/completions/certified.fish',
      ],
      load: async () => (await import('./commands/completion.js')).runCompletion,
    },
    {
      name: 'merge-crl',
      summary: 'the merge driver git runs for crl/*.crl: keep the side with the higher CRL number',
      arguments: [['<base>', "the common ancestor's CRL"], ['<ours>', 'our CRL, rewritten with the winner'], ['<theirs>', 'their CRL']],
      options: [],
      hidden: true,
      examples: ['git config merge.certified-crl.driver "certified merge-crl %O %A %B"   # done by certified git-setup'],
      load: async () => (await import('./commands/merge-crl.js')).runMergeCrl,
    },
  ];
}
