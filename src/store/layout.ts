/** Every file name in the CA directory lives here. */

export const ROOT_NAME = 'root-ca';
export const INTERMEDIATE_NAME = 'ca';
/** After "certified rotate-root": the root it replaced, and the intermediate's certificate under that root. */
export const OLD_ROOT_NAME = 'root-ca.old';
export const OLD_INTERMEDIATE_NAME = 'ca.old';
/** The new root's key certified by the old root: the bridge for clients that trust only the old root. */
export const CROSS_NAME = 'root-ca.cross';
/** Every root a client should trust: both while a rotation bridges them, then the new one. */
export const ROOTS_FILE = 'certs/roots.crt';
/** A self-signed CA at the top: the root, or the root a rotation replaced. */
export const isRootName = (name: string): boolean => name === ROOT_NAME || name === OLD_ROOT_NAME;
/** Names of the CA's own files in certs/: no certificate may take one. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([ROOT_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, OLD_INTERMEDIATE_NAME, CROSS_NAME, 'roots']);
/** The records directory (and record `issuer`) of self-signed certificates: records/self-signed/. */
export const SELF_SIGNED_ISSUER = 'self-signed';

export const CONFIG_FILE = 'certified.json';
export const GITIGNORE_FILE = '.gitignore';
export const GITATTRIBUTES_FILE = '.gitattributes';
export const LOCK_FILE = '.certified.lock';
export const JOURNAL_FILE = '.certified.journal';
export const TEMP_SUFFIX = '.certified-tmp';

export const CERTS_DIR = 'certs';
export const PRIVATE_DIR = 'private';
export const CSR_DIR = 'csr';
export const CRL_DIR = 'crl';
export const RECORDS_DIR = 'records';
export const REVOKED_DIR = 'revoked';
/** ACME accounts: acme/accounts/<RFC 7638 thumbprint of the first key>.json. */
export const ACME_ACCOUNTS_DIR = 'acme/accounts';
export const acmeAccountPath = (id: string): string => `${ACME_ACCOUNTS_DIR}/${id}.json`;

/**
 * Written by the first revocation that moves a request out of csr/, and never moved: a branch
 * that moved the last request to revoked/NAME-SERIAL/ would otherwise look to git like csr/
 * renamed there, and a merge would put the requests another branch added into that folder.
 */
export const CSR_KEEP_FILE = `${CSR_DIR}/.keep`;
export const CSR_KEEP_CONTENT = `Written by certified: keeps ${CSR_DIR}/ in git when its last request moves to ${REVOKED_DIR}/, so that
git does not take that move for a renamed folder and merge other branches' requests into it.
`;
export const certPath = (name: string): string => `${CERTS_DIR}/${name}.crt`;
export const chainPath = (name: string): string => `${CERTS_DIR}/${name}.chain.crt`;
export const keyPath = (name: string): string => `${PRIVATE_DIR}/${name}.key`;
export const csrPath = (name: string): string => `${CSR_DIR}/${name}.csr`;
export const crlPath = (issuer: string): string => `${CRL_DIR}/${issuer}.crl`;
/** The last CRL of a CA whose name a new CA took (a replaced intermediate), kept published beside the new one's. */
export const retiredCrlPath = (issuer: string, serial: string): string => `${CRL_DIR}/${issuer}-${serial}.crl`;
export const recordsDir = (issuer: string): string => `${RECORDS_DIR}/${issuer}`;
export const recordPath = (issuer: string, serial: string): string => `${recordsDir(issuer)}/${serial}.json`;
/** Where a revoked certificate's files go, so that its name can be issued again. */
export const revokedDir = (name: string, serial: string): string => `${REVOKED_DIR}/${name}-${serial}`;
/**
 * The index of revoked certificates: one empty file per revoked record,
 * revoked-index/<issuer>/<serial>, kept by every change that writes or removes a record (see
 * revoked-index.ts), so that a CRL reads only the records it lists. One file each, like the
 * records, so that branches that each revoke something merge without conflicts.
 */
export const REVOKED_INDEX_DIR = 'revoked-index';
export const revokedIndexDir = (issuer: string): string => `${REVOKED_INDEX_DIR}/${issuer}`;
export const revokedIndexPath = (issuer: string, serial: string): string => `${revokedIndexDir(issuer)}/${serial}`;
/** Present once the index lists every revoked record: a CA made before the index has none until a CRL is built. */
export const REVOKED_INDEX_COMPLETE = `${REVOKED_INDEX_DIR}/.complete`;
/** Never changed: two branches that each built the index add this file alike, and merge cleanly. */
export const REVOKED_INDEX_COMPLETE_CONTENT = `Written by certified: every revoked record records/<issuer>/<serial>.json has an empty file
revoked-index/<issuer>/<serial>, and CRLs read the records listed here. "certified check" compares both.
`;
/** A revoked certificate's key: under private/ so that the .gitignore pattern still covers it. */
export const revokedKeyPath = (name: string, serial: string): string => `${PRIVATE_DIR}/${REVOKED_DIR}/${name}-${serial}.key`;

export const GITIGNORE_CONTENT = `# Written by certified. Private keys are committed only when encrypted (certified adds
# those explicitly); an unencrypted key never enters git.
/${PRIVATE_DIR}/**/*.key
/${LOCK_FILE}*
/${JOURNAL_FILE}
*${TEMP_SUFFIX}
`;

/** Makes git diff, log -p and show print certificates decoded (see "certified git-setup"). */
export const DIFF_DRIVER = 'certified';
/**
 * Two branches that both rewrote a CRL conflict on it; this merge driver keeps the higher-numbered side, and
 * "certified crl" then rebuilds the CRL from the merged records (one file per certificate).
 * Per clone: git config merge.certified-crl.driver "certified merge-crl %O %A %B" (done by "certified git-setup").
 */
export const CRL_MERGE_DRIVER = 'certified-crl';
export const GITATTRIBUTES_CONTENT = `# Written by certified: git diff and log -p show these files decoded once the
# diff driver is set up in the clone ("certified git-setup").
*.crt diff=${DIFF_DRIVER}
*.csr diff=${DIFF_DRIVER}
*.crl diff=${DIFF_DRIVER}
/${CRL_DIR}/*.crl merge=${CRL_MERGE_DRIVER}
`;

/** ACME External Account Bindings: one file per key id, holding the HMAC key sealed to the intermediate's key. */
export const ACME_EAB_DIR = 'acme/eab';
export const eabPath = (kid: string): string => `${ACME_EAB_DIR}/${kid}.json`;
