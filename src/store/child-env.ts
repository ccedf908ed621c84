/** Our own variables: passwords (CERTIFIED_ROOT_PASSWORD, CERTIFIED_CA_PASSWORD, ...), the CA directory, test hooks. */
const OWN_VARIABLE = /^CERTIFIED_/i;

/**
 * The environment of every process and thread certified starts (git and the hooks git runs, the
 * trust-store commands, sync, worker threads): ours without any CERTIFIED_* variable. All of
 * them go, not only the ones named like a secret: a password must never reach a git hook or
 * another program, and none of these programs has a use for the others.
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!OWN_VARIABLE.test(key.trim())) env[key] = value;
  }
  return env;
}
