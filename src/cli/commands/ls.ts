import { listCertificates, type CertificateListing } from '../../ca/review/list-certificates.js';
import { parseDays } from '../../ca/options.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, note, shown, status } from '../output.js';

export interface LsOptions extends StoreFlags {
  json?: boolean;
  expiring?: string;
  issuer?: string;
}

const COLUMNS = ['NAME', 'CN', 'SANS', 'ISSUER', 'SERIAL', 'EXPIRES', 'STATUS'] as const;

export async function runLs(_args: string[], options: LsOptions, _argv: string[]): Promise<void> {
  const expiringDays = options.expiring === undefined ? undefined : parseDays(options.expiring, 'expiring');
  const store = openStore(options);
  const listings = await listCertificates(store, {
    ...(expiringDays === undefined ? {} : { expiringDays }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
  if (options.json) data(`${JSON.stringify(listings, null, 2)}\n`);
  else if (listings.length) data(formatTable(listings));
  if (expiringDays !== undefined) {
    const count = listings.length;
    status(
      count === 0
        ? `No certificate expires within ${expiringDays} days.`
        : `${count} certificate${count === 1 ? '' : 's'} expire${count === 1 ? 's' : ''} within ${expiringDays} days (or already expired): renew ${count === 1 ? 'it' : 'them'}.`,
    );
    if (count) process.exitCode = 1;
  } else if (!listings.length && !options.json) {
    await note(`there are no certificates in ${shown(store.dir)}${options.issuer ? ` from "${options.issuer}"` : ''}.`);
  }
}

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
    listing.managed ? `${listing.status} (manifest)` : listing.status,
  ];
}

/** Columns padded to the widest cell, two spaces apart; one line per certificate under a header. */
export function formatTable(listings: CertificateListing[]): string {
  const rows = [[...COLUMNS] as string[], ...listings.map(row)];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((cells) => [...(cells[column] ?? '')].length)));
  const lines = rows.map((cells) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - [...cell].length)))
      .join('  '),
  );
  return `${lines.join('\n')}\n`;
}
