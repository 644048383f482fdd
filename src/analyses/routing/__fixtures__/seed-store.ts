import type { IdentityKind } from '../../../store/schema.ts';
import type { Store } from '../../../store/store.ts';
import { gitSync as runGit } from '../../../sources/git/git.ts';

/**
 * Fills `repositories`, `identities`, `changes`, `change_files` and `change_commits` from a real
 * repository's first-parent history, the way the miner stores them (a stand-in while the miner is
 * being written; only the columns routing reads carry real values).
 */
export async function seedStoreFromRepo(store: Store, repoPath: string, kinds: Record<string, IdentityKind> = {}): Promise<number> {
  const db = store.db;
  const now = Math.floor(Date.now() / 1000);
  const repo = await db
    .insertInto('repositories')
    .values({ key: repoPath, path: repoPath, branch: 'main', tip_sha: null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const repoId = repo.id;
  const identityIds = new Map<string, number>();
  const identity = async (name: string, email: string): Promise<number> => {
    // The miner's identity key: the lower-cased e-mail.
    const key = email.toLowerCase();
    const known = identityIds.get(key);
    if (known !== undefined) return known;
    const kind = kinds[email] ?? (/\[bot\]/.test(name) ? 'bot' : 'person');
    const row = await db.insertInto('identities').values({ key, name, email, kind, tool: null, github_login: null }).returning('id').executeTakeFirstOrThrow();
    identityIds.set(key, row.id);
    return row.id;
  };
  const shas = runGit(repoPath, ['rev-list', '--first-parent', '--reverse', 'HEAD']).split('\n').filter(Boolean);
  for (const [position, sha] of shas.entries()) {
    const [parents = '', aName = '', aEmail = '', aTime = '0', cName = '', cEmail = '', cTime = '0', subject = ''] = runGit(repoPath, [
      'show',
      '-s',
      '--format=%P%x1f%aN%x1f%aE%x1f%at%x1f%cN%x1f%cE%x1f%ct%x1f%s',
      sha,
    ])
      .trimEnd()
      .split('\x1f');
    const parentList = parents.split(' ').filter(Boolean);
    const numstat = runGit(repoPath, parentList.length === 0 ? ['show', '--numstat', '--format=', sha] : ['diff', '--numstat', `${sha}^1`, sha])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'))
      .map(([added = '0', deleted = '0', path = '']) => ({ path, added: added === '-' ? null : Number(added), deleted: deleted === '-' ? null : Number(deleted) }));
    const authorId = await identity(aName, aEmail);
    const committerId = await identity(cName, cEmail);
    const added = numstat.reduce((s, f) => s + (f.added ?? 0), 0);
    const deleted = numstat.reduce((s, f) => s + (f.deleted ?? 0), 0);
    const change = await db
      .insertInto('changes')
      .values({
        repo_id: repoId,
        sha,
        position,
        parents: JSON.stringify(parentList),
        kind: parentList.length > 2 ? 'octopus' : parentList.length === 2 ? 'merge' : 'direct',
        author_id: authorId,
        author_name: aName,
        author_email: aEmail,
        author_time: Number(aTime),
        committer_id: committerId,
        committer_name: cName,
        committer_email: cEmail,
        commit_time: Number(cTime),
        subject,
        body: '',
        trailers: '[]',
        pr_number: null,
        coding_started_at: Number(aTime),
        files_changed: numstat.length,
        lines_added: added,
        lines_deleted: deleted,
        provenance: 'human',
        tool: null,
        provenance_strength: 'none',
        provenance_evidence: '[]',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const changeId = change.id;
    if (numstat.length > 0) {
      await db
        .insertInto('change_files')
        .values(numstat.map((f) => ({ change_id: changeId, path: f.path, old_path: null, status: 'M', added: f.added, deleted: f.deleted, binary: f.added === null ? 1 : 0 })))
        .execute();
    }
    if (parentList.length >= 2) {
      const brought = runGit(repoPath, ['log', '--format=%H%x1f%aN%x1f%aE%x1f%at%x1f%s', `${sha}^1..${sha}`, '--not', `${sha}^1`])
        .split('\n')
        .filter(Boolean)
        .filter((line) => !line.startsWith(sha));
      for (const line of brought) {
        const [bSha = '', bName = '', bEmail = '', bTime = '0', bSubject = ''] = line.split('\x1f');
        await db
          .insertInto('change_commits')
          .values({ change_id: changeId, sha: bSha, author_id: await identity(bName, bEmail), author_time: Number(bTime), subject: bSubject })
          .execute();
      }
    }
  }
  return repoId;
}
