/** The CA directory's names that commands show or ask for, re-exported so that cli/ imports only ca/. */
export { CERTS_DIR, CONFIG_FILE, CRL_DIR, CROSS_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, RESERVED_NAMES, ROOTS_FILE, ROOT_NAME, certPath, keyPath } from '../store/layout.js';

/** Where a new CA goes when no CA is found and none is named. */
export const DEFAULT_CA_DIRECTORY = 'etc/ssl';
