/** The PKCS#11 module the user named (flag or environment), set by the CLI before any key is opened; tiny, so start-up does not load the token code. */
let namedModule: string | undefined;

export function useTokenModule(path: string | undefined): void {
  namedModule = path;
}

export function namedTokenModule(): string | undefined {
  return namedModule;
}
