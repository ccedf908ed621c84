/** Every failure a user can act on. The CLI prints `certified: <message>` and the hint, once. */
export class CertifiedError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  /** 1 for bad input and failed operations, 2 for usage errors. */
  readonly exitCode: 1 | 2;

  constructor(message: string, options: { code: string; hint?: string; exitCode?: 1 | 2; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

export class UsageError extends CertifiedError {
  constructor(message: string, hint = 'Run "certified --help" for usage.') {
    super(message, { code: 'USAGE', hint, exitCode: 2 });
  }
}

export class InvalidInputError extends CertifiedError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'INVALID_INPUT', ...(hint ? { hint } : {}) });
  }
}

export class NoCaError extends CertifiedError {
  constructor(dir: string) {
    super(`there is no CA in "${dir}"`, {
      code: 'NO_CA',
      hint: 'Run "certified --ca CN=..." first, or point --db (or CERTIFIED_DB) at your CA directory.',
    });
  }
}

export class CaExistsError extends CertifiedError {
  constructor(dir: string) {
    super(`a CA already exists in "${dir}"`, {
      code: 'CA_EXISTS',
      hint: 'Nothing was changed. To replace the intermediate, revoke it first with "certified --ca --revoke".',
    });
  }
}

export class NameTakenError extends CertifiedError {
  constructor(name: string, path: string) {
    super(`the name "${name}" is already taken by "${path}"`, {
      code: 'NAME_TAKEN',
      hint: `Revoke it first ("certified --revoke --name ${name}"), or choose another name with --name.`,
    });
  }
}

/** The root's key stays offline and signs only CAs: a leaf comes from the intermediate or a sub-CA. */
export class RootSignsOnlyCasError extends CertifiedError {
  constructor() {
    super('the root signs only CAs', {
      code: 'ROOT_SIGNS_ONLY_CAS',
      hint: 'Nothing was written. Issue it from the intermediate "ca" (the default issuer) or from a sub-CA.',
    });
  }
}

/** A CA with pathlen 0 (a sub-CA) may sign leaves only. */
export class PathLengthError extends CertifiedError {
  constructor(issuer: string) {
    super(`the CA "${issuer}" may not sign CAs (pathlen 0)`, { code: 'PATH_LENGTH', hint: 'Nothing was written. Sign the new CA with the intermediate "ca".' });
  }
}

export class PasswordError extends CertifiedError {
  constructor(message: string, hint: string) {
    super(message, { code: 'PASSWORD', hint });
  }
}

export class LockError extends CertifiedError {
  constructor(message: string, hint: string) {
    super(message, { code: 'LOCKED', hint });
  }
}

export class StorageError extends CertifiedError {
  constructor(message: string, cause: unknown) {
    super(message, { code: 'STORAGE', hint: 'Nothing was committed; fix the cause and run the command again.', cause });
  }
}

export class UnknownCertificateError extends CertifiedError {
  constructor(name: string) {
    super(`there is no certificate named "${name}"`, {
      code: 'UNKNOWN_CERTIFICATE',
      hint: 'Check the name with "certified ls" (NAME is the CN lower-cased, spaces as dashes, or --name).',
    });
  }
}

export class AlreadyRevokedError extends CertifiedError {
  constructor(name: string, serial: string, date: string) {
    super(`"${name}" (serial ${serial}) was already revoked on ${date.slice(0, 10)}`, {
      code: 'ALREADY_REVOKED',
      hint: `Nothing was changed. Issue a new one with "certified CN=..".`,
    });
  }
}

export class IssuerRevokedError extends CertifiedError {
  constructor(name: string, date: string, reason: string, hint: string) {
    super(`the issuing CA "${name}" was revoked on ${date.slice(0, 10)} (${reason})`, { code: 'ISSUER_REVOKED', hint });
  }
}
