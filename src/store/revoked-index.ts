import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangeSet, FileWrite } from './change.js';
import { RECORDS_DIR, revokedIndexPath } from './layout.js';
import { parseRecord } from './records.js';

/** The issuer directory and serial of a record path, records/<issuer>/<serial>.json; undefined for any other path. */
export function recordPlace(path: string): { issuer: string; serial: string } | undefined {
  const parts = path.split('/');
  if (parts.length !== 3 || parts[0] !== RECORDS_DIR || !parts[2]!.endsWith('.json')) return undefined;
  return { issuer: parts[1]!, serial: parts[2]!.slice(0, -'.json'.length) };
}

/**
 * `change` with the index of revoked certificates kept in step with the records it writes and
 * removes: an entry for every record written as revoked, none for a record written as valid or
 * removed. Done here, under every change, so that no command (revoke, apply, renew, ACME, a root
 * rotation that moves records to another issuer) can leave the index behind its records.
 */
export function withRevokedIndex(dir: string, change: ChangeSet): ChangeSet {
  const touched = new Set([...change.writes.map((write) => write.path), ...(change.removes ?? [])]);
  const writes: FileWrite[] = [];
  const removes: string[] = [];
  const present = (path: string) => existsSync(join(dir, path));
  for (const write of change.writes) {
    const place = recordPlace(write.path);
    if (!place) continue;
    const entry = revokedIndexPath(place.issuer, place.serial);
    if (touched.has(entry)) continue;
    let revoked = false;
    // Parsed only when it may say so: apply writes thousands of new, valid records at once.
    if (write.content.includes('"revoked"')) {
      try {
        revoked = parseRecord(write.content).status === 'revoked';
      } catch {
        continue;
      }
    }
    if (revoked && !present(entry)) writes.push({ path: entry, content: '', commit: write.commit });
    else if (!revoked && present(entry)) removes.push(entry);
    touched.add(entry);
  }
  for (const path of change.removes ?? []) {
    const place = recordPlace(path);
    if (!place) continue;
    const entry = revokedIndexPath(place.issuer, place.serial);
    if (!touched.has(entry) && present(entry)) removes.push(entry);
    touched.add(entry);
  }
  if (!writes.length && !removes.length) return change;
  return { ...change, writes: [...change.writes, ...writes], removes: [...(change.removes ?? []), ...removes] };
}
