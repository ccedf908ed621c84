import { listCertificates, type CertificateListing } from '../../ca/review/list-certificates.js';
import { listExpiringCrls } from '../../ca/review/expiring-crls.js';
import { parseDays } from '../../ca/options.js';
import { openStore, warnPendingChange, type StoreFlags } from '../context.js';
import { data, note, printJson, shown, status } from '../output.js';

export interface LsOptions extends StoreFlags {
  json?: boolean;
  expiring?: string;
  issuer?: string;
  all?: boolean;
}

const COLUMNS = ['NAME', 'CN', 'SANS', 'ISSUER', 'SERIAL', 'EXPIRES', 'STATUS'] as const;

export async function runLs(_args: string[], options: LsOptions, _argv: string[]): Promise<void> {
  const expiringDays = options.expiring === undefined ? undefined : parseDays(options.expiring, 'expiring');
  const store = openStore(options);
  await warnPendingChange(store);
  const listings = await listCertificates(store, {
    ...(expiringDays === undefined ? {} : { expiringDays }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
  // The table shows what is in use; revoked (superseded included) only with --all. --json lists all.
  const shownListings = options.all || options.json ? listings : listings.filter((listing) => listing.status !== 'revoked');
  const hidden = listings.length - shownListings.length;
  // --expiring also lists the CRLs due within DAYS: past their nextUpdate, clients refuse every certificate.
  const crls = expiringDays === undefined || options.issuer !== undefined ? [] : await listExpiringCrls(store, { days: expiringDays });
  if (options.json) printJson([...listings, ...crls]);
  else if (shownListings.length) data(formatTable(shownListings, terminalWidth()));
  if (!options.json) for (const crl of crls) data(crlLine(crl.name, crl.nextUpdate, terminalWidth()));
  if (expiringDays !== undefined) {
    const count = listings.length;
    status(
      count === 0
        ? `No certificate expires within ${expiringDays} days.`
        : `${count} certificate${count === 1 ? '' : 's'} expire${count === 1 ? 's' : ''} within ${expiringDays} days (or already expired): renew ${count === 1 ? 'it' : 'them'}.`,
    );
    if (crls.length) status(`${crls.length} CRL${crls.length === 1 ? '' : 's'} must be re-signed within ${expiringDays} days: run "certified crl" (the root's with its key: "certified crl --issuer root-ca").`);
    if (count || crls.length) process.exitCode = 1;
  } else if (hidden) {
    await note(`${hidden} revoked or superseded certificate${hidden === 1 ? ' is' : 's are'} not shown; "certified ls --all" lists ${hidden === 1 ? 'it' : 'them'} too.`);
  } else if (!listings.length && !options.json) {
    await note(`there are no certificates in ${shown(store.dir)}${options.issuer ? ` from "${options.issuer}"` : ''}.`);
  }
}

/** "crl/NAME.crl  re-sign by DATE", the file name cut with "…" to fit `width`. */
function crlLine(file: string, nextUpdate: string, width: number): string {
  const tail = `  re-sign by ${nextUpdate.slice(0, 10)}`;
  const room = Math.max(8, width - tail.length);
  return `${[...file].length > room ? `${[...file].slice(0, room - 1).join('')}…` : file}${tail}`;
}

/** The terminal's width when stdout is one, else 120 columns (what a pipe or a log gets). */
function terminalWidth(): number {
  return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : DEFAULT_WIDTH;
}

const DEFAULT_WIDTH = 120;

/** SANs as people read them: DNS names, addresses and e-mails bare; URIs keep their "URI:". */
function shortSan(san: string): string {
  return san.replace(/^(?:DNS|IP Address|email):/, '');
}

function row(listing: CertificateListing): string[] {
  return [
    listing.name,
    listing.cn,
    listing.sans.map(shortSan).join(',') || '-',
    listing.issuer,
    listing.serial,
    listing.notAfter.slice(0, 10),
    listing.managed ? `${listing.status} (manifest)` : listing.acme ? `${listing.status} (acme)` : listing.external ? `${listing.status} (external CA)` : listing.status,
  ];
}

type Column = (typeof COLUMNS)[number];

/**
 * How the table gives way when it is wider than the terminal: first the serial becomes its first
 * 8 digits (what a person compares; --json has it whole); then NAME, SANS, CN and ISSUER are cut
 * with "…" to one common limit, NAME allowed three times and SANS twice as much as the others, so
 * that the longest cells give way first and short ones stay whole; below their minimums the CN,
 * then the SANS column is dropped. EXPIRES and STATUS are never cut, and a line never wraps: as
 * a last resort it is cut at the width.
 */
const SERIAL_SHORT = 9;
const SHARES: Partial<Record<Column, { weight: number; min: number }>> = {
  NAME: { weight: 3, min: 16 },
  SANS: { weight: 2, min: 12 },
  CN: { weight: 1, min: 8 },
  ISSUER: { weight: 1, min: 8 },
};
const DROP: Column[] = ['CN', 'SANS'];
const GAP = '  ';

const length = (text: string): number => [...text].length;

function cut(text: string, width: number): string {
  return length(text) <= width ? text : `${[...text].slice(0, width - 1).join('')}…`;
}

/** Columns padded to the widest cell, two spaces apart, within `width`; one line per certificate under a header. */
export function formatTable(listings: CertificateListing[], width = DEFAULT_WIDTH): string {
  const rows = [[...COLUMNS] as string[], ...listings.map(row)];
  let columns: Column[] = [...COLUMNS];
  const natural = new Map(COLUMNS.map((column, index) => [column, Math.max(...rows.map((cells) => length(cells[index] ?? '')))]));
  const widths = new Map(natural);
  const total = () => columns.reduce((sum, column) => sum + (widths.get(column) ?? 0), 0) + GAP.length * (columns.length - 1);
  if (total() > width) widths.set('SERIAL', Math.min(SERIAL_SHORT, natural.get('SERIAL') ?? 0));
  for (let dropped = 0; total() > width && dropped <= DROP.length; dropped++) {
    if (dropped > 0) columns = columns.filter((column) => column !== DROP[dropped - 1]);
    const shared = columns.filter((column) => SHARES[column] !== undefined);
    // The largest common limit at which the table fits (or the minimums, if none does).
    for (let limit = Math.max(...shared.map((column) => natural.get(column) ?? 0)); limit >= 0; limit--) {
      for (const column of shared) {
        const { weight, min } = SHARES[column]!;
        const full = natural.get(column) ?? 0;
        widths.set(column, Math.min(full, Math.max(min, weight * limit)));
      }
      if (total() <= width) break;
    }
    // What the steps of the limit left over goes to the cut columns, NAME first.
    for (const column of shared) {
      const spare = width - total();
      if (spare > 0) widths.set(column, Math.min(natural.get(column) ?? 0, (widths.get(column) ?? 0) + spare));
    }
  }
  const lines = rows.map((cells) =>
    columns
      .map((column, index) => {
        const cell = cut(cells[COLUMNS.indexOf(column)] ?? '', widths.get(column) ?? 0);
        return index === columns.length - 1 ? cell : cell + ' '.repeat((widths.get(column) ?? 0) - length(cell));
      })
      .join(GAP),
  );
  return `${lines.map((line) => cut(line, width)).join('\n')}\n`;
}
