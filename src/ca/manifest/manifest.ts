import type { KeySpec } from '../../pki/keys.js';
import type { SubjectAltName } from '../../pki/types.js';
import { INTERMEDIATE_NAME, RESERVED_NAMES } from '../../store/layout.js';
import { CertifiedError, type TextPart, type Spelling } from '../errors.js';
import { printable, subjectAltNames, validateDn, validateName } from '../names.js';
import { assertSanCount } from '../address-forms.js';
import { parseKeySpec } from '../options.js';
import { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS, type LeafProfile } from '../profiles.js';
import { normalizeAllowEntry } from '../acme/allow-list.js';
import { CHALLENGE_TYPES, type AcmePolicy, type ChallengeType } from '../acme/types.js';
import { readCommonShape, toTree, type TreeNode } from './manifest-tree.js';

export const MANIFEST_FILE = 'certificates.yaml';
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const MAX_DAYS = 36_500;

/** One certificate the manifest asks for, validated, with the line it is declared on. */
export interface ManifestEntry {
  name: string;
  line: number;
  cn: string;
  /** As they go into the certificate: a DNS- or IP-shaped CN first, then `san`, without repeats; none for a CA. */
  sans: SubjectAltName[];
  /** `ca` for a sub-CA (`ca: true`). */
  profile: LeafProfile | 'ca';
  days: number;
  key: KeySpec;
  issuer: string;
}

export interface Manifest {
  entries: ManifestEntry[];
  renewBeforeDays: number;
  /** The `acme:` section: what the ACME server may issue. */
  acme?: AcmePolicy;
}

/** Names of the certificates the ACME server issues (acme-<serial>) and serves with (acme-server). */
export const ACME_NAME_PREFIX = 'acme-';
export const ACME_DEFAULT_DAYS = 30;
/** The longest a publicly trusted TLS certificate may live (CA/Browser Forum), and the most ACME clients expect. */
export const ACME_MAX_DAYS = 397;

/** A manifest that cannot be used; the message starts with `certificates.yaml:LINE:`. */
/** Options as a manifest entry names them: `key`, `bits`. */
const MANIFEST_KEYS: Spelling = {
  option: (option) => (option === 'keyType' ? 'key' : option),
  variable: (variable) => variable,
};

export class ManifestError extends CertifiedError {
  constructor(line: number, message: string, hint?: string | readonly TextPart[]) {
    super(`${MANIFEST_FILE}:${line}: ${message}`, {
      code: 'BAD_MANIFEST',
      hint: hint ?? 'Fix certificates.yaml and run the command again; nothing was changed.',
    });
  }
}

const TOP_KEYS = ['defaults', 'certificates', 'renew_before', 'acme'];
const ACME_KEYS = ['allow', 'days', 'challenges', 'eab'];
const DEFAULT_KEYS = ['days', 'key', 'bits'];
const ENTRY_KEYS = ['cn', 'san', 'profile', 'days', 'key', 'bits', 'ca', 'issuer'];
const PROFILES: Record<string, LeafProfile> = { server: 'server', client: 'client', both: 'server+client' };

type Node = TreeNode | undefined;
interface Field {
  line: number;
  value: unknown;
  node: Node;
}

const lineOf = (node: Node, fallback = 1): number => node?.line ?? fallback;

/** The tree of certificates.yaml: the common shape directly, anything else through the `yaml` package. */
async function readTree(text: string): Promise<TreeNode> {
  const common = readCommonShape(text);
  if (common) return common;
  // The bundle may hand a CommonJS namespace back under `default`.
  const loaded = await import('yaml');
  const yaml = ((loaded as { default?: Yaml }).default ?? loaded) as Yaml;
  const lineCounter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line ?? lineCounter.linePos(first.pos[0]).line;
    throw new ManifestError(line, `it is not valid YAML: ${first.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  if (doc.contents === null) throw new ManifestError(1, 'it is empty', 'Add a "certificates:" map (see the help of "certified plan").');
  return toTree(yaml, doc.contents, (offset) => lineCounter.linePos(offset).line) ?? { kind: 'other', line: undefined };
}
type Yaml = typeof import('yaml');

/** Parses and validates certificates.yaml; every error names its line. */
export async function parseManifest(text: string): Promise<Manifest> {
  return checkManifest(await readTree(text));
}

/** Validates the tree of certificates.yaml (exported for tests: both readers must give the same result). */
export function checkManifest(tree: TreeNode): Manifest {
  const top = mapFields(tree, 'the manifest', TOP_KEYS);
  const defaults = top.defaults ? mapFields(top.defaults.node, 'defaults', DEFAULT_KEYS) : {};
  const defaultDays = defaults.days ? days(defaults.days, 'defaults.days') : undefined;
  const defaultKey = defaults.key ? keyType(defaults.key, 'defaults.key') : undefined;
  const defaultBits = defaults.bits ? bits(defaults.bits, 'defaults.bits') : undefined;
  const renewBeforeDays = top.renew_before ? renewBefore(top.renew_before) : DEFAULT_RENEW_BEFORE_DAYS;

  const acme = top.acme ? acmeSection(top.acme) : undefined;
  if (!top.certificates) {
    if (acme) return { entries: [], renewBeforeDays, acme };
    throw new ManifestError(1, 'there is no "certificates:" map', 'Add one: certificates: { web: { cn: web.example.com } }.');
  }
  const certificates = top.certificates;
  if (certificates.node?.kind !== 'map') throw new ManifestError(certificates.line, '"certificates" must be a map of name: { cn: ..., san: [...] }');
  const entries: ManifestEntry[] = [];
  for (const pair of certificates.node.pairs) {
    const line = pair.keyLine ?? certificates.line;
    const name = pair.key;
    wrap(line, 'certificate name', () => validateName(name));
    if (RESERVED_NAMES.has(name)) {
      throw new ManifestError(line, `"${name}" is the name of the CA itself`, 'Choose another name for this certificate.');
    }
    if (name.startsWith(ACME_NAME_PREFIX)) {
      throw new ManifestError(line, `"${name}" starts with "${ACME_NAME_PREFIX}", which names the certificates of the ACME server`, 'Choose another name for this certificate.');
    }
    const fields = mapFields(pair.value, `"${name}"`, ENTRY_KEYS, line);
    const isCa = fields.ca ? flag(fields.ca, 'ca') : false;
    if (!fields.cn) throw new ManifestError(line, `"${name}" has no cn`, 'Give it one, like { cn: host.example.com }.');
    const cn = scalarText(fields.cn, 'cn');
    wrap(fields.cn.line, 'cn', () => validateDn({ CN: cn }));
    // A CA certifies no names of its own (as with "--ca --issuer"): its CN is only a name.
    if (isCa && fields.san) throw new ManifestError(fields.san.line, `"${name}" is a CA and cannot have san`, 'Drop "san" or "ca: true".');
    const sanList = fields.san ? stringList(fields.san, 'san') : [];
    if (fields.san) wrap(fields.san.line, '', () => assertSanCount(sanList.length));
    const sans = isCa ? [] : wrap(fields.cn.line, 'cn', () => subjectAltNames(cn, []));
    for (const item of sanList) {
      const [san] = wrap(item.line, 'san', () => subjectAltNames(undefined, [String(item.value)]));
      if (san && !sans.some((known) => known.type === san.type && known.value === san.value)) sans.push(san);
    }
    wrap(fields.san?.line ?? line, '', () => assertSanCount(sans.length));
    if (isCa && fields.profile) throw new ManifestError(fields.profile.line, `"${name}" is a CA and cannot have a profile`, 'Drop "profile" or "ca: true".');
    const profile = isCa ? 'ca' : fields.profile ? profileOf(fields.profile) : 'server+client';
    const key = wrapKey(fields.key ?? defaults.key, fields.bits ?? (fields.key ? undefined : defaults.bits), isCa ? 'ca' : 'leaf', defaultKey, defaultBits);
    const issuer = fields.issuer ? scalarText(fields.issuer, 'issuer') : INTERMEDIATE_NAME;
    if (fields.issuer) wrap(fields.issuer.line, 'issuer', () => validateName(issuer));
    if (isCa && issuer !== INTERMEDIATE_NAME) {
      throw new ManifestError(fields.issuer?.line ?? line, `the sub-CA "${name}" must be issued by "${INTERMEDIATE_NAME}"`, 'Sub-CAs have pathlen 0 and cannot sign other CAs.');
    }
    entries.push({
      name,
      line,
      cn,
      sans,
      profile,
      days: fields.days ? days(fields.days, 'days') : (defaultDays ?? (isCa ? DEFAULT_CA_DAYS : DEFAULT_LEAF_DAYS)),
      key,
      issuer,
    });
  }
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  for (const entry of entries) {
    if (entry.issuer === INTERMEDIATE_NAME) continue;
    const target = byName.get(entry.issuer);
    if (target && target.profile !== 'ca') {
      throw new ManifestError(entry.line, `the issuer of "${entry.name}", "${entry.issuer}", is not a CA`, `Add "ca: true" to "${entry.issuer}" or pick another issuer.`);
    }
  }
  return { entries, renewBeforeDays, ...(acme ? { acme } : {}) };
}

/** The `acme:` section: allow (required), days, challenges, eab. */
function acmeSection(field: Field): AcmePolicy {
  const fields = mapFields(field.node, 'acme', ACME_KEYS, field.line);
  const example = 'Add one, like allow: [.internal.example.com, 10.0.0.0/8].';
  if (!fields.allow) throw new ManifestError(field.line, 'acme has no "allow" list of the names and addresses ACME clients may get', example);
  const allow = stringList(fields.allow, 'acme.allow').map((item) => wrap(item.line, 'acme.allow', () => normalizeAllowEntry(String(item.value))));
  if (allow.length === 0) throw new ManifestError(fields.allow.line, 'acme.allow is empty, so ACME clients could get nothing', example);
  let acmeDays = ACME_DEFAULT_DAYS;
  if (fields.days) {
    const value = fields.days.value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > ACME_MAX_DAYS) {
      throw new ManifestError(fields.days.line, `acme.days must be a whole number of days from 1 to ${ACME_MAX_DAYS}, got "${printable(String(value ?? ''))}"`);
    }
    acmeDays = value;
  }
  let challenges: ChallengeType[] = [...CHALLENGE_TYPES];
  if (fields.challenges) {
    const items = stringList(fields.challenges, 'acme.challenges');
    if (items.length === 0) throw new ManifestError(fields.challenges.line, 'acme.challenges is empty, so no client could prove a name', `Leave it out for all three, or list some of ${CHALLENGE_TYPES.join(', ')}.`);
    challenges = [];
    for (const item of items) {
      const type = CHALLENGE_TYPES.find((known) => known === item.value);
      if (!type) throw new ManifestError(item.line, `unknown challenge "${printable(String(item.value))}" in acme.challenges`, `Use ${CHALLENGE_TYPES.join(', ')}.`);
      if (!challenges.includes(type)) challenges.push(type);
    }
  }
  return { allow, days: acmeDays, challenges, eab: fields.eab ? flag(fields.eab, 'acme.eab') : false };
}

function mapFields(node: Node, what: string, allowed: string[], fallback = 1): Record<string, Field> {
  const line = lineOf(node, fallback);
  if (node?.kind !== 'map') throw new ManifestError(line, `${what} must be a map (key: value)`);
  const fields: Record<string, Field> = {};
  for (const pair of node.pairs) {
    const keyLine = pair.keyLine ?? line;
    const key = pair.key;
    if (!allowed.includes(key)) {
      throw new ManifestError(keyLine, `unknown key "${printable(key)}" in ${what}`, `Use ${allowed.join(', ')}.`);
    }
    const value = pair.value;
    fields[key] = { line: lineOf(value, keyLine), value: value?.kind === 'scalar' ? value.value : undefined, node: value };
  }
  return fields;
}

/** Turns a validation error of names.ts into one that names the line. */
function wrap<T>(line: number, what: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof CertifiedError) {
      throw new ManifestError(line, `${what ? `${what} ` : ''}${error.renderMessage(MANIFEST_KEYS)}`, error.renderHint(MANIFEST_KEYS));
    }
    throw error;
  }
}

function scalarText(field: Field, what: string): string {
  if (typeof field.value !== 'string' && typeof field.value !== 'number') throw new ManifestError(field.line, `${what} must be a text value`);
  return String(field.value);
}

function stringList(field: Field, what: string): Field[] {
  if (field.node?.kind !== 'seq') throw new ManifestError(field.line, `${what} must be a list, like [a.example.com, 10.0.0.1]`);
  return field.node.items.map((item) => {
    const line = lineOf(item, field.line);
    if (item?.kind !== 'scalar' || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
      throw new ManifestError(line, `every ${what} must be a text value`);
    }
    return { line, value: item.value, node: item };
  });
}

function days(field: Field, what: string): number {
  const value = field.value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DAYS) {
    throw new ManifestError(field.line, `${what} must be a whole number of days from 1 to ${MAX_DAYS}, got "${printable(String(value ?? ''))}"`);
  }
  return value;
}

function keyType(field: Field, what: string): 'ecdsa' | 'rsa' {
  if (field.value !== 'ecdsa' && field.value !== 'rsa') {
    throw new ManifestError(field.line, `${what} must be "ecdsa" or "rsa", got "${printable(String(field.value ?? ''))}"`);
  }
  return field.value;
}

function bits(field: Field, what: string): string {
  if (typeof field.value !== 'number') throw new ManifestError(field.line, `${what} must be a number, like 2048`);
  return String(field.value);
}

function wrapKey(keyField: Field | undefined, bitsField: Field | undefined, kind: 'ca' | 'leaf', defaultKey?: string, defaultBits?: string): KeySpec {
  const line = bitsField?.line ?? keyField?.line ?? 1;
  const type = keyField ? keyType(keyField, 'key') : defaultKey;
  const size = bitsField ? bits(bitsField, 'bits') : type === 'rsa' ? defaultBits : undefined;
  return wrap(line, '', () => parseKeySpec({ ...(type ? { keyType: type } : {}), ...(size ? { bits: size } : {}) }, kind));
}

function flag(field: Field, what: string): boolean {
  if (typeof field.value !== 'boolean') throw new ManifestError(field.line, `${what} must be true or false`);
  return field.value;
}

function profileOf(field: Field): LeafProfile {
  const profile = typeof field.value === 'string' ? PROFILES[field.value] : undefined;
  if (!profile) throw new ManifestError(field.line, `profile must be server, client or both, got "${printable(String(field.value ?? ''))}"`);
  return profile;
}

function renewBefore(field: Field): number {
  const match = typeof field.value === 'string' ? /^([0-9]{1,5})d$/.exec(field.value) : null;
  if (!match) throw new ManifestError(field.line, `renew_before must be a number of days like "30d", got "${printable(String(field.value ?? ''))}"`);
  return Number(match[1]);
}
