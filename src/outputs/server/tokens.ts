import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';

/** What a token may do: `ingest` posts events, `read` reads the API and the dashboard, `admin` does everything. */
export type TokenScope = 'ingest' | 'read' | 'admin';
export const tokenScopes: readonly TokenScope[] = ['ingest', 'read', 'admin'];

/** A stored token, without its secret. */
export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** SHA-256 of a token secret: all that is stored, so a leaked database does not leak tokens. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Parses a comma-separated scope list, rejecting unknown scopes. */
export function parseScopes(text: string): TokenScope[] {
  const scopes = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const scope of scopes) {
    if (!tokenScopes.includes(scope as TokenScope)) {
      throw new FlowgateError('USAGE', `Unknown token scope "${scope}". Use a comma-separated list of: ${tokenScopes.join(', ')}.`);
    }
  }
  if (scopes.length === 0) throw new FlowgateError('USAGE', `A token needs at least one scope: ${tokenScopes.join(', ')}.`);
  return [...new Set(scopes)] as TokenScope[];
}

/** Creates a token and returns its secret: the only time the secret exists outside the caller. */
export async function createToken(db: Kysely<Database>, name: string, scopes: TokenScope[]): Promise<{ token: ApiToken; secret: string }> {
  const secret = `fgt_${randomBytes(32).toString('base64url')}`;
  const now = Math.floor(Date.now() / 1000);
  const row = await db
    .insertInto('api_tokens')
    .values({ name, token_hash: hashToken(secret), prefix: secret.slice(0, 10), scopes: JSON.stringify(scopes), created_at: now, last_used_at: null, revoked_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token: { id: row.id, name, prefix: secret.slice(0, 10), scopes, createdAt: now, lastUsedAt: null, revokedAt: null }, secret };
}

/** Every token, newest first. */
export async function listTokens(db: Kysely<Database>): Promise<ApiToken[]> {
  const rows = await db.selectFrom('api_tokens').selectAll().orderBy('id', 'desc').execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: JSON.parse(r.scopes) as TokenScope[],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes a token by id; NOT_FOUND when there is no such token. */
export async function revokeToken(db: Kysely<Database>, id: number): Promise<void> {
  const result = await db.updateTable('api_tokens').set({ revoked_at: Math.floor(Date.now() / 1000) }).where('id', '=', id).executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new FlowgateError('NOT_FOUND', `No API token with id ${id}. List them with \`flowgate token list\`.`);
}

/** The token a secret belongs to, if valid and not revoked; UNAUTHORIZED otherwise. */
export async function authenticateToken(db: Kysely<Database>, secret: string | undefined): Promise<ApiToken> {
  if (secret === undefined || secret === '') {
    throw new FlowgateError('UNAUTHORIZED', 'No API token. Send `Authorization: Bearer <token>`; create one with `flowgate token create`.');
  }
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hashToken(secret)).executeTakeFirst();
  if (row === undefined || row.revoked_at !== null) throw new FlowgateError('UNAUTHORIZED', 'The API token is unknown or revoked. Create one with `flowgate token create`.');
  const now = Math.floor(Date.now() / 1000);
  // Once a minute is enough to show which tokens are in use, without a write per request.
  if (row.last_used_at === null || now - row.last_used_at > 60) {
    await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { id: row.id, name: row.name, prefix: row.prefix, scopes: JSON.parse(row.scopes) as TokenScope[], createdAt: row.created_at, lastUsedAt: now, revokedAt: null };
}

/** Throws FORBIDDEN unless the token has `scope` (admin has every scope). */
export function requireScope(token: ApiToken, scope: TokenScope): void {
  if (token.scopes.includes(scope) || token.scopes.includes('admin')) return;
  throw new FlowgateError('FORBIDDEN', `Token "${token.name}" lacks the "${scope}" scope. Create a token with --scopes ${scope}.`);
}
