import { NOT_SHOWN_QUICKLY, showQuickly } from './show-quickly.js';

/**
 * `node dist/bundle/textconv.cjs FILE`: what bin/certified-textconv (git's textconv) runs first,
 * as CommonJS, which Node starts faster than an ES module. Exits with NOT_SHOWN_QUICKLY, having
 * printed nothing, when the CLI must show the file.
 */
const file = process.argv[2];
if (file === undefined || process.argv.length > 3 || !showQuickly(file)) process.exitCode = NOT_SHOWN_QUICKLY;
