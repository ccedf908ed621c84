import { data } from '../output.js';

/**
 * `certified completion bash|zsh|fish`: prints the script, generated from the program itself. Opens
 * no CA and loads no X.509 code: the script reads the CA's names from its directory when it runs.
 * Commander has already refused a shell that is not one of the three.
 */
export async function runCompletion(args: string[], _options: Record<string, never>, _argv: string[]): Promise<void> {
  const { buildProgram } = await import('../program.js');
  const { completionSurface } = await import('../completion/surface.js');
  const surface = completionSurface(buildProgram('', []));
  const shell = args[0];
  if (shell === 'zsh') data((await import('../completion/zsh.js')).zshScript(surface));
  else if (shell === 'fish') data((await import('../completion/fish.js')).fishScript(surface));
  else data((await import('../completion/bash.js')).bashScript(surface));
}
