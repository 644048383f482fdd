import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { repositoryKey } from '../git/miner.ts';
import { ensureRepository, getRepository, type Repository } from '../../store/repositories.ts';
import type { Database } from '../../store/schema.ts';

/** The stored key of a `--repo` argument: a local path resolves to its repository's key, anything else (owner/name) is the key. */
export async function repoKeyOf(pathOrKey: string): Promise<{ key: string; path: string | null }> {
  const full = resolve(pathOrKey);
  if (existsSync(full)) return repositoryKey(full);
  return { key: pathOrKey, path: null };
}

/** The repository for events: found or created, so events may arrive before the history is mined. */
export async function repositoryForEvents(db: Kysely<Database>, pathOrKey: string): Promise<Repository> {
  const { key, path } = await repoKeyOf(pathOrKey);
  return ensureRepository(db, key, path, null);
}

/** The repository for reading (report): must exist, else NOT_FOUND saying to analyze first. */
export async function repositoryToRead(db: Kysely<Database>, pathOrKey: string): Promise<Repository> {
  const { key } = await repoKeyOf(pathOrKey);
  return getRepository(db, key);
}
