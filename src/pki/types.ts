/** Subject attributes we support, in the order they are encoded. */
export const DN_ATTRIBUTES = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;
export type DnAttribute = (typeof DN_ATTRIBUTES)[number];
export type DistinguishedName = Partial<Record<DnAttribute, string>>;

export type SanType = 'dns' | 'ip' | 'email' | 'uri';
export interface SubjectAltName {
  type: SanType;
  value: string;
}

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth' | 'emailProtection';

export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation';
