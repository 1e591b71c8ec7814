/**
 * `npm run event-schemas` — writes docs/events/<detail-type>.schema.json from the zod detail schemas and
 * removes files of detail-types that no longer exist. test/events/schemas-doc.test.ts fails when they are stale.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { detailJsonSchemas } from '../shared/events/schemas.ts';

const dir = new URL('../docs/events/', import.meta.url);
mkdirSync(dir, { recursive: true });
const schemas = detailJsonSchemas();
for (const [file, schema] of Object.entries(schemas)) {
  writeFileSync(new URL(file, dir), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote docs/events/${file}`);
}
for (const file of readdirSync(dir)) {
  if (file.endsWith('.schema.json') && !(file in schemas)) {
    rmSync(new URL(file, dir));
    console.log(`removed docs/events/${file}`);
  }
}
