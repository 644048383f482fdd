import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

const fromIeee754 = (bits: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
};

describe('canonicalJson (RFC 8785)', () => {
  it('writes the sample of section 3.2.2 byte for byte', () => {
    // The RFC's input text, parsed as any verifier would parse it.
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    const output = canonicalJson(JSON.parse(input));
    expect(output).toBe(expected);
    // The RFC also publishes the UTF-8 bytes of the result.
    const bytes =
      '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a ' +
      '5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 ' +
      '5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d';
    expect(Buffer.from(output, 'utf8').toString('hex')).toBe(bytes.replaceAll(' ', ''));
  });

  it('sorts member names by UTF-16 code units (section 3.2.3)', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  const numbers: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(numbers)('serializes the number 0x%s as %s (appendix B)', (bits, text) => {
    expect(canonicalJson(fromIeee754(bits))).toBe(text);
    expect(canonicalJson([fromIeee754(bits)])).toBe(`[${text}]`);
  });

  it.each([
    ['NaN (0x7fffffffffffffff)', fromIeee754('7fffffffffffffff')],
    ['Infinity (0x7ff0000000000000)', fromIeee754('7ff0000000000000')],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('refuses %s, which has no JSON form', (_name, value) => {
    expect(() => canonicalJson({ a: [value] })).toThrow(/\$\.a\[0\].*not a JSON number/);
  });

  it('refuses values outside I-JSON with the path named', () => {
    expect(() => canonicalJson({ s: 'a\ud800b' })).toThrow(/\$\.s.*unpaired/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/\$\.f.*function/);
    expect(() => canonicalJson({ b: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson(new Map())).toThrow(/Map is not a plain object/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/contains itself/);
    expect(() => canonicalJson([undefined])).toThrow(/undefined/);
  });

  it('drops undefined members, uses toJSON, and keeps a surrogate pair as it is', () => {
    expect(canonicalJson({ b: undefined, a: new Date(0), c: '😀' })).toBe('{"a":"1970-01-01T00:00:00.000Z","c":"😀"}');
    // The same value in two member orders is one text: the reason the log hashes canonical JSON.
    expect(canonicalJson({ x: 1, y: { b: [1, 2], a: null } })).toBe(canonicalJson({ y: { a: null, b: [1, 2] }, x: 1 }));
  });
});
