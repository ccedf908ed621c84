/**
 * The environment every test and bench run of the CLI starts from: ours without CERTIFIED_*
 * variables (so nothing leaks in from the caller) and without colour; `extra` sets or removes more.
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CERTIFIED_')) env[key] = value;
  env.NO_COLOR = '1';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
