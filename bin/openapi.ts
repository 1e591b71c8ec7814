/** `npm run openapi` — writes docs/openapi.json from the schemas (a test fails when it is stale). */
import { writeFileSync } from 'node:fs';
import { buildOpenApi } from '../shared/http/openapi.ts';

const file = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
