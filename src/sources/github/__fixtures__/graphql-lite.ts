/**
 * Just enough GraphQL for the fake GitHub: a parser for queries (fields, aliases, arguments,
 * variables, inline fragments) and an executor over a small typed schema. Unknown fields, missing
 * arguments, undeclared variables and mutations are errors, answered the way GitHub answers them
 * (HTTP 200 with `errors`), so a request flowgate shapes wrongly fails the tests.
 */

export type GqlValue = string | number | boolean | null | GqlValue[] | { [key: string]: GqlValue } | { variable: string };

export interface GqlField {
  kind: 'field';
  alias: string | null;
  name: string;
  args: Record<string, GqlValue>;
  selections: GqlSelection[] | null;
}
export interface GqlFragment {
  kind: 'fragment';
  on: string;
  selections: GqlSelection[];
}
export type GqlSelection = GqlField | GqlFragment;

export interface GqlOperation {
  operation: 'query' | 'mutation';
  variables: Record<string, { type: string; nonNull: boolean }>;
  selections: GqlSelection[];
}

export class GqlError extends Error {}

const punctuation = new Set(['!', '$', '(', ')', ':', '=', '[', ']', '{', '}', '@', '|']);

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/[\s,]/.test(c)) i++;
    else if (c === '#') while (i < text.length && text.charAt(i) !== '\n') i++;
    else if (text.startsWith('...', i)) {
      tokens.push('...');
      i += 3;
    } else if (punctuation.has(c)) {
      tokens.push(c);
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text.charAt(j) !== '"') {
        if (text.charAt(j) === '\\') {
          s += JSON.parse(`"${text.slice(j, j + 2)}"`) as string;
          j += 2;
        } else s += text.charAt(j++);
      }
      if (j >= text.length) throw new GqlError('Unterminated string');
      tokens.push(JSON.stringify(s));
      i = j + 1;
    } else {
      const m = /^[_A-Za-z][_0-9A-Za-z]*|^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (m === null) throw new GqlError(`Parse error on "${c}"`);
      tokens.push(m[0]);
      i += m[0].length;
    }
  }
  return tokens;
}

/** Parses one operation; fragments by name and subscriptions are not supported (flowgate sends neither). */
export function parseGql(text: string): GqlOperation {
  const tokens = tokenize(text);
  let p = 0;
  const peek = (): string | undefined => tokens[p];
  const take = (expected?: string): string => {
    const t = tokens[p++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw new GqlError(`Parse error: expected ${expected ?? 'a token'}, got ${t ?? 'end of query'}`);
    return t;
  };
  const name = (): string => {
    const t = take();
    if (!/^[_A-Za-z]/.test(t)) throw new GqlError(`Parse error: expected a name, got ${t}`);
    return t;
  };
  const value = (): GqlValue => {
    const t = take();
    if (t === '$') return { variable: name() };
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (/^-?\d/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (t === '[') {
      const list: GqlValue[] = [];
      while (peek() !== ']') list.push(value());
      take(']');
      return list;
    }
    if (t === '{') {
      const object: Record<string, GqlValue> = {};
      while (peek() !== '}') {
        const key = name();
        take(':');
        object[key] = value();
      }
      take('}');
      return object;
    }
    return t; // an enum value
  };
  const type = (): { type: string; nonNull: boolean } => {
    let inner: string;
    if (peek() === '[') {
      take('[');
      inner = `[${type().type}]`;
      take(']');
    } else inner = name();
    const nonNull = peek() === '!';
    if (nonNull) take('!');
    return { type: inner, nonNull };
  };
  const selectionSet = (): GqlSelection[] => {
    take('{');
    const selections: GqlSelection[] = [];
    while (peek() !== '}') {
      if (peek() === '...') {
        take('...');
        take('on');
        const on = name();
        selections.push({ kind: 'fragment', on, selections: selectionSet() });
        continue;
      }
      let fieldName = name();
      let alias: string | null = null;
      if (peek() === ':') {
        take(':');
        alias = fieldName;
        fieldName = name();
      }
      const args: Record<string, GqlValue> = {};
      if (peek() === '(') {
        take('(');
        while (peek() !== ')') {
          const key = name();
          take(':');
          args[key] = value();
        }
        take(')');
      }
      selections.push({ kind: 'field', alias, name: fieldName, args, selections: peek() === '{' ? selectionSet() : null });
    }
    take('}');
    return selections;
  };
  let operation: 'query' | 'mutation' = 'query';
  const variables: GqlOperation['variables'] = {};
  if (peek() === 'query' || peek() === 'mutation') {
    operation = take() as 'query' | 'mutation';
    if (peek() !== '(' && peek() !== '{') name();
    if (peek() === '(') {
      take('(');
      while (peek() !== ')') {
        take('$');
        const variable = name();
        take(':');
        variables[variable] = type();
        if (peek() === '=') {
          take('=');
          value();
        }
      }
      take(')');
    }
  }
  const selections = selectionSet();
  if (p !== tokens.length) throw new GqlError(`Parse error: unexpected ${tokens[p] ?? ''} after the operation`);
  return { operation, variables, selections };
}

/** A field of a schema type: its result type (a type name, `[Type]` for lists) and how to resolve it. */
export interface GqlFieldDef {
  type: string;
  args?: Record<string, { required: boolean }>;
  resolve(parent: unknown, args: Record<string, unknown>): unknown;
}
/** Object types by name; a resolved object may say its concrete type in `__typename` (for fragments). */
export type GqlSchema = Record<string, Record<string, GqlFieldDef>>;

const scalars = new Set(['String', 'Int', 'Boolean', 'ID', 'GitObjectID', 'DateTime', 'URI', 'Enum']);

/** Runs a parsed query against a schema rooted at type `Query`; errors are thrown as GqlError. */
export function executeGql(schema: GqlSchema, operation: GqlOperation, variables: Record<string, unknown>): unknown {
  if (operation.operation !== 'query') throw new GqlError('The fake GitHub answers queries only; flowgate sends no mutations.');
  for (const [name, def] of Object.entries(operation.variables)) {
    if (def.nonNull && (variables[name] === undefined || variables[name] === null)) throw new GqlError(`Variable $${name} of type ${def.type}! was provided invalid value`);
  }
  const resolveValue = (v: GqlValue): unknown => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'variable' in v && typeof v.variable === 'string') {
      if (!(v.variable in operation.variables)) throw new GqlError(`Variable $${v.variable} is used but not declared`);
      return variables[v.variable] ?? null;
    }
    if (Array.isArray(v)) return v.map(resolveValue);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x)]));
    return v;
  };
  const select = (typeName: string, parent: unknown, selections: GqlSelection[], out: Record<string, unknown>): void => {
    const fields = schema[typeName];
    if (fields === undefined) throw new GqlError(`Unknown type ${typeName}`);
    const concrete = (parent as { __typename?: string } | null)?.__typename ?? typeName;
    for (const s of selections) {
      if (s.kind === 'fragment') {
        if (schema[s.on] === undefined) throw new GqlError(`No such type ${s.on}, so it can't be a fragment condition`);
        if (s.on === concrete) select(s.on, parent, s.selections, out);
        continue;
      }
      const key = s.alias ?? s.name;
      if (s.name === '__typename') {
        out[key] = concrete;
        continue;
      }
      const def = fields[s.name];
      if (def === undefined) throw new GqlError(`Field '${s.name}' doesn't exist on type '${typeName}'`);
      const args: Record<string, unknown> = {};
      for (const [argName, argValue] of Object.entries(s.args)) {
        if (def.args?.[argName] === undefined) throw new GqlError(`Field '${s.name}' doesn't accept argument '${argName}'`);
        args[argName] = resolveValue(argValue);
      }
      for (const [argName, argDef] of Object.entries(def.args ?? {})) {
        if (argDef.required && (args[argName] === undefined || args[argName] === null)) throw new GqlError(`Field '${s.name}' is missing required argument: ${argName}`);
      }
      const result = def.resolve(parent, args);
      const list = def.type.startsWith('[');
      const itemType = list ? def.type.slice(1, -1) : def.type;
      if (scalars.has(itemType)) {
        if (s.selections !== null) throw new GqlError(`Selections can't be made on scalars (field '${s.name}' returns ${itemType})`);
        out[key] = result ?? null;
        continue;
      }
      if (s.selections === null) throw new GqlError(`Field must have selections (field '${s.name}' returns ${itemType} but has no selections)`);
      const selectionsOf = s.selections;
      const one = (item: unknown): unknown => {
        if (item === null || item === undefined) return null;
        const child: Record<string, unknown> = {};
        select(itemType, item, selectionsOf, child);
        return child;
      };
      out[key] = list ? ((result as unknown[] | null) ?? []).map(one) : one(result);
    }
  };
  const data: Record<string, unknown> = {};
  select('Query', null, operation.selections, data);
  return data;
}

/** A GitHub-style connection (`first`/`after` or `last`, at most 100) over a list. */
export function connection<T>(items: T[], args: Record<string, unknown>): { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number } {
  const first = args['first'] as number | null | undefined;
  const last = args['last'] as number | null | undefined;
  if ((first ?? null) === null && (last ?? null) === null) throw new GqlError('You must provide a `first` or `last` value to properly paginate the connection.');
  const n = first ?? last ?? 0;
  if (n < 0 || n > 100) throw new GqlError(`Requesting ${n} records on the connection exceeds the \`${first !== undefined ? 'first' : 'last'}\` limit of 100 records.`);
  const after = typeof args['after'] === 'string' ? Number(Buffer.from(args['after'], 'base64').toString()) + 1 : 0;
  const start = (first ?? null) !== null ? after : Math.max(0, items.length - n);
  const nodes = items.slice(start, start + n);
  const end = start + nodes.length;
  return { nodes, pageInfo: { hasNextPage: end < items.length, endCursor: nodes.length === 0 ? null : Buffer.from(String(end - 1)).toString('base64') }, totalCount: items.length };
}
