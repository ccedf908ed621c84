/** A plain key stays unquoted; anything else is a double-quoted (JSON) scalar, valid YAML too. */
const PLAIN_KEY = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/** Hiera YAML: `NAME.crt: |` and an indented block literal per entry (values end in a newline). */
export function renderHieraYaml(entries: { key: string; value: string }[]): string {
  if (!entries.length) return '--- {}\n';
  const blocks = entries.map(({ key, value }) => {
    const lines = value.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
    return `${PLAIN_KEY.test(key) ? key : JSON.stringify(key)}: |\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
  });
  return `---\n${blocks.join('')}`;
}
