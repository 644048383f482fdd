import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { eventsJsonSchema } from './schema.ts';

// Regenerates schema/events.schema.json from the zod schema (a test checks they agree).
writeFileSync(resolve(import.meta.dirname, '../../../schema/events.schema.json'), `${JSON.stringify(eventsJsonSchema(), null, 2)}\n`);
