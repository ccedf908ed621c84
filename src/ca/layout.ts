/** The CA directory's names that commands show or ask for, re-exported so that cli/ imports only ca/. */
export { INTERMEDIATE_NAME, ROOT_NAME, certPath, keyPath } from '../store/layout.js';
