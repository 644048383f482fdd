import { describe, expect, it } from 'vitest';
import { isFlowgateError } from '../../core/errors.ts';
import { loadJitCsv, parseJitCsv } from './jit-csv.ts';

const header = ',_id,date,bug,__,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp';
const good = '0,abc,1420046511,1,1,1,1,1,0.0,2,3,1098,0,57,12.7,211,307,15.5,105';

describe('parseJitCsv', () => {
  it('reads rows, renames entrophy, computes churn and drops the label copy `__`', () => {
    const [row] = parseJitCsv(`${header}\n${good}\n`);
    expect(row).toMatchObject({ id: 'abc', time: 1420046511, label: 1, churn: 5 });
    expect(row?.features.entropy).toBe(0);
    expect(row?.features).not.toHaveProperty('__');
    expect(row?.features).not.toHaveProperty('bug');
    expect(Object.keys(row?.features ?? {})).toHaveLength(14);
  });

  it('names the line and column of a value that is not a number', () => {
    const bad = good.replace(',2,3,1098,', ',two,3,1098,');
    try {
      parseJitCsv(`${header}\n${good}\n${bad}\n`, 'qt.csv');
      expect.fail('accepted a bad row');
    } catch (error) {
      expect(isFlowgateError(error, 'EVENT_INVALID')).toBe(true);
      expect((error as Error).message).toContain('qt.csv line 3, column "la"');
      expect((error as { details: unknown }).details).toMatchObject({ line: 3, column: 'la' });
    }
  });

  it('rejects a header without a needed column and a label that is not 0/1', () => {
    expect(() => parseJitCsv(header.replace(',la,', ',lines,'))).toThrow(/lacks the column\(s\) la on line 1/);
    expect(() => parseJitCsv(`${header}\n${good.replace(',1,1,1,1,1,', ',2,1,1,1,1,')}`)).toThrow(/line 2, column "bug": 2 is not a label/);
  });

  it('says which file it cannot read', () => {
    expect(() => loadJitCsv('/nonexistent/jit.csv')).toThrow(/Cannot read the dataset \/nonexistent\/jit.csv/);
  });
});
