// Validates an AsyncAPI document (default: docs/asyncapi.yaml) with the official
// @asyncapi/parser: the AsyncAPI specification's JSON Schema and its Spectral rules.
// Prints every diagnostic; exits 1 when any has error severity, 2 on a usage error.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, '../../../docs/asyncapi.yaml');

let text;
try {
  text = readFileSync(file, 'utf8');
} catch (e) {
  console.error(`validate: cannot read ${file}: ${e.message}`);
  process.exit(2);
}

const severities = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning',
                     [DiagnosticSeverity.Information]: 'info', [DiagnosticSeverity.Hint]: 'hint' };
const { document, diagnostics } = await new Parser().parse(text, { source: file });
let errors = 0;
for (const d of diagnostics) {
  if (d.severity === DiagnosticSeverity.Error) errors++;
  const where = d.range ? `${d.range.start.line + 1}:${d.range.start.character + 1}` : '?';
  console.log(`${file}:${where}: ${severities[d.severity] ?? d.severity}: ${d.code}: ${d.message}` +
              (d.path?.length ? ` (at ${d.path.join('.')})` : ''));
}
if (errors || !document) {
  console.log(`validate: ${errors} error(s); ${document ? 'parsed' : 'not a valid AsyncAPI document'}`);
  process.exit(1);
}
console.log(`validate: ${file} is valid AsyncAPI ${document.version()} (${diagnostics.length} diagnostic(s), no errors)`);
