/** Options whose value is a secret: masked wherever the command line is shown or committed. */
export const SECRET_OPTIONS = ['--password', '--ca-password', '--root-password', '--new-root-password', '--intermediate-password', '--p12-password', '--pin', '--root-pin'];

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function quote(arg: string): string {
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command as typed, secrets replaced by ***, quoted so that it can be pasted into a shell. */
export function redactedCommandLine(args: string[]): string {
  const out: string[] = ['certified'];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const equals = arg.indexOf('=');
    const option = arg.startsWith('--') && equals > 0 ? arg.slice(0, equals) : arg;
    if (SECRET_OPTIONS.includes(option)) {
      if (equals > 0 && arg.startsWith('--')) {
        out.push(`${option}=${arg.slice(equals + 1) === '-' ? '-' : '***'}`);
      } else {
        out.push(option);
        const value = args[i + 1];
        if (value !== undefined) {
          out.push(value === '-' ? '-' : '***');
          i++;
        }
      }
      continue;
    }
    out.push(quote(arg));
  }
  return out.join(' ');
}
