import { inspectCrl } from '../../pki/inspect.js';
import type { CaStore } from '../../store/ca-store.js';
import { CRL_DIR, certPath, isRootName } from '../../store/layout.js';
import { loadConfig } from '../ca-files.js';
import { caOfCrlFile } from '../config.js';

/** A CA's CRL as `ls --expiring` and `check` see it. */
export interface CrlListing {
  kind: 'crl';
  /** The file, relative to the CA directory: crl/ISSUER.crl. */
  name: string;
  issuer: string;
  /** When clients that check CRLs start refusing the issuer's certificates, unless it is re-signed. */
  nextUpdate: string;
}

/** Days ahead at which check warns that a CRL needs re-signing: the root's is signed offline, so it warns early. */
export function crlWarningDays(issuer: string): number {
  return isRootName(issuer) ? 30 : 2;
}

/** The CRLs of the CAs in certs/ whose nextUpdate is within `days` (or past), by file name. */
export async function listExpiringCrls(store: CaStore, params: { days: number; now?: Date }): Promise<CrlListing[]> {
  const limit = (params.now ?? new Date()).getTime() + params.days * 86_400_000;
  const listings: CrlListing[] = [];
  const config = await loadConfig(store).catch(() => undefined);
  for (const file of (await store.list(CRL_DIR)).filter((name) => name.endsWith('.crl'))) {
    const issuer = caOfCrlFile(config, file.slice(0, -'.crl'.length));
    if (!(await store.exists(certPath(issuer)))) continue; // a revoked CA's last CRL: never re-signed
    const pem = await store.readText(`${CRL_DIR}/${file}`);
    let nextUpdate: Date | undefined;
    try {
      nextUpdate = pem === undefined ? undefined : inspectCrl(pem).nextUpdate;
    } catch {
      continue; // an unreadable CRL is check's finding
    }
    if (nextUpdate && nextUpdate.getTime() <= limit) listings.push({ kind: 'crl', name: `${CRL_DIR}/${file}`, issuer, nextUpdate: nextUpdate.toISOString() });
  }
  return listings;
}
