import type { KeyRole } from './passwords.js';
import { PLAIN, renderText, toParts, type Spelling, type Text, type TextPart } from './text.js';

export type { OptionName, Spelling, Text, TextPart, VariableName } from './text.js';

/**
 * Every failure a user can act on. The CLI prints `certified: <message>` and the hint, once,
 * with the options in them spelled as its flags (renderMessage, renderHint); `message` and `hint`
 * spell them in words.
 */
export class CertifiedError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly messageParts: readonly TextPart[];
  readonly hintParts: readonly TextPart[] | undefined;
  /** 1 for bad input and failed operations, 2 for usage errors. */
  readonly exitCode: 1 | 2;

  constructor(message: Text, options: { code: string; hint?: Text | undefined; exitCode?: 1 | 2; cause?: unknown }) {
    super(renderText(toParts(message), PLAIN), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.messageParts = toParts(message);
    this.hintParts = options.hint === undefined ? undefined : toParts(options.hint);
    this.hint = this.renderHint(PLAIN);
    this.exitCode = options.exitCode ?? 1;
  }

  renderMessage(spelling: Spelling): string {
    return renderText(this.messageParts, spelling);
  }

  renderHint(spelling: Spelling): string | undefined {
    return this.hintParts && renderText(this.hintParts, spelling);
  }
}

/** Bad usage (exit 2); without a hint the CLI points at its help. */
export class UsageError extends CertifiedError {
  constructor(message: Text, hint?: Text) {
    super(message, { code: 'USAGE', hint, exitCode: 2 });
  }
}

export class InvalidInputError extends CertifiedError {
  constructor(message: Text, hint?: Text) {
    super(message, { code: 'INVALID_INPUT', hint });
  }
}

export class NoCaError extends CertifiedError {
  constructor(dir: string) {
    super(`there is no CA in "${dir}"`, {
      code: 'NO_CA',
      hint: ['Run "certified init CN=..." first, or point ', { option: 'db' }, ' (or ', { variable: 'db' }, ') at your CA directory.'],
    });
  }
}

export class CaExistsError extends CertifiedError {
  constructor(dir: string) {
    super(`a CA already exists in "${dir}"`, {
      code: 'CA_EXISTS',
      hint: ['Nothing was changed. To replace the intermediate, revoke it first with "certified revoke ', { option: 'ca' }, '".'],
    });
  }
}

export class CaInsideCaError extends CertifiedError {
  constructor(dir: string, outer: string) {
    super(`"${dir}" is inside the CA in "${outer}"`, {
      code: 'CA_INSIDE_CA',
      hint: ['Nothing was changed. Make the new CA in a directory of its own, outside that one (', { option: 'db', value: 'DIR' }, '), or a sub-CA of that CA with ', { option: 'issuer' }, '.'],
    });
  }
}

export class NameTakenError extends CertifiedError {
  constructor(name: string, path: string) {
    super(`the name "${name}" is already taken by "${path}"`, {
      code: 'NAME_TAKEN',
      hint: ['Revoke it first ("certified revoke ', { option: 'name', value: name }, '"), or choose another name with ', { option: 'name' }, '.'],
    });
  }
}

/** An unencrypted key git ignores, left on disk by another branch or an interrupted command: not a name in use. */
export class LeftoverKeyError extends CertifiedError {
  constructor(name: string, path: string) {
    super(`"${path}" is a key that no certificate or request of this branch uses (git ignores it, so it stays when you switch branches)`, {
      code: 'LEFTOVER_KEY',
      hint: `Nothing was changed. If it belongs to another branch, switch to that branch to use it; else move it out of the CA directory (mv "${path}" ~/${name}.key.old) and run the command again.`,
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

/** A CA asked for a path length its issuer cannot give (a CA below one with pathlen N gets at most N-1). */
export class PathLengthTooLongError extends CertifiedError {
  constructor(issuer: string, issuerPathLength: number, asked: number) {
    super([`the CA "${issuer}" (pathlen ${issuerPathLength}) cannot sign a CA with `, { option: 'pathlen', value: String(asked) }], {
      code: 'PATH_LENGTH',
      hint: ['Nothing was written. Give ', { option: 'pathlen', value: String(issuerPathLength - 1) }, ' or less, or sign it with ', { option: 'issuer', value: 'root-ca' }, '.'],
    });
  }
}

/** A CA whose key is in another engine: certified signed its certificate but cannot sign with it. */
export class ExternalCaError extends CertifiedError {
  constructor(name: string) {
    super(`"${name}" is an external CA: certified has no key for it and cannot sign with it`, {
      code: 'EXTERNAL_CA',
      hint: ['Issue from it in the engine that holds its key, or give ', { option: 'issuer' }, ' a CA certified holds, like ', { option: 'issuer', value: 'ca' }, '.'],
    });
  }
}

/**
 * A password that is missing or wrong. `role` says whose key it is for, so the caller can say where
 * to give it; `problem` says what is wrong: no password for an existing key (`missing`), a wrong
 * one (`wrong`), or none for a new key that must be encrypted like the one it replaces (`new-key`).
 */
export class PasswordError extends CertifiedError {
  readonly role: KeyRole | undefined;
  readonly problem: 'missing' | 'wrong' | 'new-key' | undefined;

  constructor(message: string, hint: string | undefined, detail: { role?: KeyRole; problem?: 'missing' | 'wrong' | 'new-key' } = {}) {
    super(message, { code: 'PASSWORD', ...(hint ? { hint } : {}) });
    this.role = detail.role;
    this.problem = detail.problem;
  }
}

export class LockError extends CertifiedError {
  constructor(message: string, hint: string | readonly TextPart[]) {
    super(message, { code: 'LOCKED', hint });
  }
}

export class StorageError extends CertifiedError {
  constructor(message: string, cause: unknown, hint = 'Nothing was committed; fix the cause and run the command again.') {
    super(message, { code: 'STORAGE', hint, cause });
  }
}

export class UnknownCertificateError extends CertifiedError {
  constructor(name: string) {
    super(`there is no certificate named "${name}"`, {
      code: 'UNKNOWN_CERTIFICATE',
      hint: ['Check the name with "certified ls" (NAME is the CN lower-cased, spaces as dashes, or ', { option: 'name' }, ').'],
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
  constructor(name: string, date: string, reason: string, hint: string | readonly TextPart[]) {
    super(`the issuing CA "${name}" was revoked on ${date.slice(0, 10)} (${reason})`, { code: 'ISSUER_REVOKED', hint });
  }
}
