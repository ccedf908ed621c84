import { verifyCrlSignature } from '../../pki/crl.js';
import { inspectCrl } from '../../pki/inspect.js';
import { inspectCrlTextQuickly, issuerKeyOf, verifySignatureQuickly } from '../../pki/quick-check.js';
import type { CheckedView } from './check-certificates.js';
import type { CaStore } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { isoSeconds } from './describe.js';
import { finding, type Finding } from './check-findings.js';
import { issuedBy } from '../issuer-revocations.js';
import { crlWarningDays } from './expiring-crls.js';
import type { TextPart } from '../text.js';
import { isRootName } from '../../store/layout.js';

/**
 * Every CA in certs/ but an external one has a CRL that it signed, that is not past its nextUpdate, and that lists
 * exactly its revoked records (never its own serial). Returns how many CRLs were read.
 */
export async function checkCrls(
  store: CaStore,
  certificates: Map<string, CheckedView>,
  records: CertificateRecord[],
  now: Date,
  findings: Finding[],
  crlPath: (name: string) => string,
): Promise<number> {
  let count = 0;
  // An external CA's CRL is its engine's to publish: certified has no key to sign one.
  const external = new Set(records.filter((record) => record.external).map((record) => record.serial));
  for (const [name, ca] of certificates) {
    if (!ca.isCa || external.has(ca.serial)) continue;
    const path = crlPath(name);
    const pem = await store.readText(path);
    if (pem === undefined) {
      findings.push(finding(path, 'missing-crl', `the CA "${name}" has no CRL: run "certified crl"`));
      continue;
    }
    count++;
    let crl;
    try {
      // A CRL as certified writes it is read without the X.509 library (quick-check.ts): a CRL of a thousand entries cost it ~1 s.
      crl = inspectCrlTextQuickly(pem) ?? inspectCrl(pem);
    } catch (error) {
      findings.push(finding(path, 'unreadable', `not a CRL: ${(error as Error).message}`));
      continue;
    }
    const issuerKey = issuerKeyOf(ca.pem);
    const signed = (issuerKey && verifySignatureQuickly(crl.pem, 'X509 CRL', issuerKey)) ?? (await verifyCrlSignature(crl.pem, ca.pem).catch(() => false));
    if (!signed) findings.push(finding(path, 'bad-crl-signature', `the signature does not verify against its issuer "certs/${name}.crt"`));
    if (!crl.nextUpdate || crl.nextUpdate <= now) {
      findings.push(
        finding(path, 'stale-crl', `${crl.nextUpdate ? `expired at ${isoSeconds(crl.nextUpdate)}` : 'has no nextUpdate'}: run "certified crl"`),
      );
    } else if (crl.nextUpdate.getTime() - now.getTime() < crlWarningDays(name) * 86_400_000) {
      const fix: TextPart[] = isRootName(name) ? ['run "certified crl ', { option: 'issuer', value: name }, '" with the root key'] : ['run "certified crl"'];
      findings.push(finding(path, 'crl-expiring', [`expires at ${isoSeconds(crl.nextUpdate)}, within ${crlWarningDays(name)} days, after which clients that check CRLs refuse its certificates: `, ...fix]));
    }
    const expected = new Set(
      records
        .filter((record) => record.issuer === name && record.status === 'revoked' && record.serial !== ca.serial && issuedBy(record, ca))
        .map((record) => record.serial),
    );
    const listed = new Set(crl.entries.map((entry) => entry.serial));
    const missing = [...expected].filter((serial) => !listed.has(serial)).sort();
    const extra = [...listed].filter((serial) => !expected.has(serial)).sort();
    if (missing.length) findings.push(finding(path, 'crl-entries', `does not list the revoked serial(s) ${missing.join(', ')}`));
    if (extra.length) findings.push(finding(path, 'crl-entries', `lists serial(s) ${extra.join(', ')} that no revoked record of "${name}" has`));
  }
  return count;
}
