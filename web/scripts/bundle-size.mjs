// Prints the gzipped size of the JavaScript each built page loads (its entry script and the
// chunks it preloads) and fails when the chat page passes its budget of 150 KB.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = join(import.meta.dirname, '..', 'dist');
const budgets = { 'index.html': 150 * 1024, 'admin.html': null };

/** The JavaScript files an HTML page loads at start. */
export function pageScripts(html) {
  const files = new Set();
  for (const match of html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\/(assets\/[^"]+\.js)"/g)) {
    files.add(match[1]);
  }
  return [...files];
}

let failed = false;
for (const [page, budget] of Object.entries(budgets)) {
  const html = readFileSync(join(dist, page), 'utf8');
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) {
    console.error(`bundle-size: ${page} has an inline script, which the content policy forbids`);
    failed = true;
  }
  let raw = 0;
  let gzipped = 0;
  for (const file of pageScripts(html)) {
    const bytes = readFileSync(join(dist, file));
    raw += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const limit = budget === null ? '' : ` (budget ${kb(budget)})`;
  console.log(`bundle-size: ${page} JavaScript ${kb(raw)} raw, ${kb(gzipped)} gzipped${limit}`);
  if (budget !== null && gzipped > budget) {
    console.error(`bundle-size: ${page} is over its budget`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
