import { FlowgateError } from '../../core/errors.ts';

/**
 * RFC 8785 JSON Canonicalization Scheme: one byte sequence per JSON value, so that a hash or a
 * signature over it means the same to every verifier. Object members are sorted by the UTF-16
 * code units of their names, numbers use ECMAScript's shortest round-trip form (which is what
 * `String(number)` produces), strings use JSON.stringify's minimal escaping, and there is no
 * whitespace. Values outside I-JSON (NaN, Infinity, lone surrogates, functions, cycles) throw.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', new Set());
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serializeNumber(value, path);
    case 'string':
      return serializeString(value, path);
    case 'object':
      return serializeObject(value, path, ancestors);
    default:
      throw invalid(path, `a ${typeof value} has no JSON form`);
  }
}

function serializeNumber(value: number, path: string): string {
  if (!Number.isFinite(value)) throw invalid(path, `${String(value)} is not a JSON number`);
  // Number::toString is the serialization RFC 8785 section 3.2.2.3 prescribes; it already writes -0 as "0".
  return String(value);
}

// With the `u` flag a surrogate pair is one code point, so this only matches an unpaired half.
const loneSurrogate = /[\uD800-\uDFFF]/u;

function serializeString(value: string, path: string): string {
  if (loneSurrogate.test(value)) throw invalid(path, 'the string holds an unpaired UTF-16 surrogate');
  return JSON.stringify(value);
}

function serializeObject(value: object, path: string, ancestors: Set<object>): string {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return serialize((toJSON as () => unknown).call(value), path, ancestors);
  if (ancestors.has(value)) throw invalid(path, 'the value contains itself');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items = (value as unknown[]).map((item, i) => {
        if (item === undefined) throw invalid(`${path}[${i}]`, 'undefined has no JSON form');
        return serialize(item, `${path}[${i}]`, ancestors);
      });
      return `[${items.join(',')}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw invalid(path, `a ${value.constructor.name} is not a plain object`);
    }
    const record = value as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as section 3.2.3 asks.
    const names = Object.keys(record).filter((name) => record[name] !== undefined).sort();
    const members = names.map((name) => `${serializeString(name, path)}:${serialize(record[name], `${path}.${name}`, ancestors)}`);
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

function invalid(path: string, why: string): FlowgateError {
  return new FlowgateError(
    'USAGE',
    `Cannot write ${path} as canonical JSON: ${why}. Pass only null, booleans, finite numbers, strings, arrays and plain objects.`,
    { details: { path } },
  );
}
