import { data, printJson } from '../output.js';

/**
 * `certified completion bash|zsh|fish`: prints the script, generated from the program itself. Opens
 * no CA and loads no X.509 code: the script reads the CA's names from its directory when it runs.
 * Commander has already refused a shell that is not one of the three.
 */
export async function runCompletion(args: string[], options: { json?: boolean }, _argv: string[]): Promise<void> {
  const { buildProgram } = await import('../program.js');
  const { completionSurface } = await import('../completion/surface.js');
  const surface = completionSurface(buildProgram('', []));
  const shell = args[0] ?? 'bash';
  const script =
    shell === 'zsh'
      ? (await import('../completion/zsh.js')).zshScript(surface)
      : shell === 'fish'
        ? (await import('../completion/fish.js')).fishScript(surface)
        : (await import('../completion/bash.js')).bashScript(surface);
  if (options.json) printJson({ shell, script });
  else data(script);
}
