/** The CA directory's names that commands show or ask for, re-exported so that cli/ imports only ca/. */
export { CROSS_NAME, INTERMEDIATE_NAME, ROOTS_FILE, ROOT_NAME, certPath, keyPath } from '../store/layout.js';
