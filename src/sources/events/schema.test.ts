import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEventLines } from './ingest.ts';
import { eventsJsonSchema } from './schema.ts';

describe('event schema', () => {
  it('matches the committed schema/events.schema.json (regenerate: npx tsx src/sources/events/write-schema.ts)', () => {
    const committed = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../schema/events.schema.json'), 'utf8')) as unknown;
    expect(committed).toEqual(eventsJsonSchema());
  });

  it('accepts ISO times with offsets and Unix seconds, keeps unknown keys, rejects times without an offset', () => {
    const events = parseEventLines(
      [
        '{"id":"a","type":"review","at":"2025-03-01T10:00:00+02:00","number":4,"reviewer":"kim","state":"approved","url":"https://x"}',
        '{"id":"b","type":"deployment","at":1740823200,"environment":"production","result":"success","sha":"ABCDEF1"}',
      ].join('\n'),
      'inline',
    );
    expect(events.map((e) => e.at)).toEqual(['2025-03-01T10:00:00+02:00', 1740823200]);
    expect((events[0] as Record<string, unknown>)['url']).toBe('https://x');
    expect(() => parseEventLines('{"id":"c","type":"incident","action":"opened","at":"2025-03-01T10:00:00","incident":"I"}', 'f.jsonl')).toThrow(/line 1: at: /);
  });
});
