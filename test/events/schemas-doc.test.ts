/**
 * The published contract stays true: docs/events/*.schema.json are what `npm run event-schemas` writes from the
 * zod schemas today, and every JSON example of docs/events.md is valid (envelopes against their detail
 * schema, rule patterns against EventBridge's pattern rules).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePattern } from '../../local/eventbus.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { detailJsonSchemas, isDetailType, parseDetail } from '../../shared/events/schemas.ts';

const docs = new URL('../../docs/', import.meta.url);
const STALE = 'stale: run `npm run event-schemas` and commit docs/events/';

describe('docs/events/*.schema.json', () => {
  const generated = detailJsonSchemas();

  it('holds exactly one file per detail-type', () => {
    const onDisk = readdirSync(new URL('events/', docs)).filter((f) => f.endsWith('.schema.json'));
    expect(onDisk.sort(), STALE).toEqual(Object.keys(generated).sort());
  });

  it.each(Object.entries(generated))('%s is up to date', (file, schema) => {
    const onDisk = readFileSync(new URL(`events/${file}`, docs), 'utf8');
    expect(onDisk, STALE).toBe(`${JSON.stringify(schema, null, 2)}\n`);
  });
});

describe('docs/events.md examples', () => {
  const markdown = readFileSync(new URL('events.md', docs), 'utf8');
  const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? '') as Record<string, unknown>);
  const envelopes = blocks.filter((b) => b.version === '0');
  const patterns = blocks.filter((b) => b.version === undefined);

  it('shows an example of every detail-type', () => {
    expect(new Set(envelopes.map((e) => e['detail-type']))).toEqual(new Set(Object.values(DetailType)));
  });

  it.each(envelopes.map((e) => [e['detail-type'], e] as const))('the %s example satisfies its schema', (detailType, envelope) => {
    expect(isDetailType(detailType)).toBe(true);
    expect(() => parseDetail(detailType as DetailType, envelope.detail)).not.toThrow();
  });

  it('its rule patterns are patterns EventBridge accepts', () => {
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) expect(() => validatePattern(pattern)).not.toThrow();
  });
});
