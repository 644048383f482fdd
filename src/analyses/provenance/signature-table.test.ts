import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { provenanceDocPath, renderSignatureTable, withSignatureTable } from './signature-table.ts';
import { builtinSignatures } from './signatures.ts';

describe('docs/provenance.md signature table', () => {
  const doc = readFileSync(provenanceDocPath, 'utf8');

  it('is the table generated from the data (run `npx tsx src/analyses/provenance/signature-table.ts` to update)', () => {
    expect(withSignatureTable(doc)).toBe(doc);
  });

  it('lists every signature id, once per row', () => {
    for (const signature of builtinSignatures) expect(doc).toContain(`| \`${signature.id}\` | ${signature.tool} | ${signature.class} | ${signature.strength} | ${signature.where} |`);
    expect(renderSignatureTable().split('\n')).toHaveLength(builtinSignatures.length + 2);
  });

  it('has unique ids in the built-in table', () => {
    expect(new Set(builtinSignatures.map((s) => s.id)).size).toBe(builtinSignatures.length);
  });
});
