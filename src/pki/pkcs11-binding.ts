/**
 * What certified uses of the optional native package pkcs11js, declared here rather than imported
 * from its typings: when pkcs11js cannot be built (no compiler), npm leaves it out, and the build
 * must still type-check. The shapes are pkcs11js's own (index.d.ts of pkcs11js 2.x).
 */

export type Handle = Buffer;

export interface Attribute {
  type: number;
  value?: number | boolean | string | Buffer | Date;
}

export type Template = Attribute[];

export interface AttributeResult {
  type: number;
  value: Buffer;
}

export interface Mechanism {
  mechanism: number;
  parameter?: Buffer | number;
}

export interface TokenInfo {
  label: string;
  manufacturerID: string;
  model: string;
  serialNumber: string;
  flags: number;
}

/** One loaded PKCS#11 module (pkcs11js's PKCS11 class). */
export interface Pkcs11Module {
  load(path: string): void;
  C_Initialize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): TokenInfo;
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_FindObjectsInit(session: Handle, template: Template): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Template): AttributeResult[];
  C_GenerateKeyPair(session: Handle, mechanism: Mechanism, publicTemplate: Template, privateTemplate: Template): { privateKey: Handle; publicKey: Handle };
  C_SignInit(session: Handle, mechanism: Mechanism, key: Handle): void;
  C_Sign(session: Handle, inData: Buffer, outData: Buffer): Buffer;
}

/** The PKCS#11 constants certified uses, as pkcs11js exports them. */
type Constant =
  | 'CKA_CLASS'
  | 'CKA_DECRYPT'
  | 'CKA_DERIVE'
  | 'CKA_EC_PARAMS'
  | 'CKA_EC_POINT'
  | 'CKA_EXTRACTABLE'
  | 'CKA_ID'
  | 'CKA_KEY_TYPE'
  | 'CKA_LABEL'
  | 'CKA_MODULUS'
  | 'CKA_MODULUS_BITS'
  | 'CKA_PRIVATE'
  | 'CKA_PUBLIC_EXPONENT'
  | 'CKA_SENSITIVE'
  | 'CKA_SIGN'
  | 'CKA_TOKEN'
  | 'CKA_UNWRAP'
  | 'CKA_VERIFY'
  | 'CKF_RW_SESSION'
  | 'CKF_SERIAL_SESSION'
  | 'CKF_TOKEN_INITIALIZED'
  | 'CKK_EC'
  | 'CKK_RSA'
  | 'CKM_ECDSA'
  | 'CKM_EC_KEY_PAIR_GEN'
  | 'CKM_RSA_PKCS_KEY_PAIR_GEN'
  | 'CKM_SHA256_RSA_PKCS'
  | 'CKM_SHA384_RSA_PKCS'
  | 'CKO_PRIVATE_KEY'
  | 'CKO_PUBLIC_KEY'
  | 'CKR_CRYPTOKI_ALREADY_INITIALIZED'
  | 'CKR_PIN_INCORRECT'
  | 'CKR_PIN_LEN_RANGE'
  | 'CKR_PIN_LOCKED'
  | 'CKR_TOKEN_WRITE_PROTECTED'
  | 'CKR_USER_ALREADY_LOGGED_IN'
  | 'CKU_USER';

/** The package's exports certified reads: the class and the constants. */
export type Binding = { PKCS11: new () => Pkcs11Module } & Readonly<Record<Constant, number>>;
