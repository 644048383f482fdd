import type { Kysely } from 'kysely';
import { ensureRepository } from '../../../store/repositories.ts';
import type { Database, ProvenanceClass } from '../../../store/schema.ts';

/**
 * Stores a few changes (as the miner would), a decision the service published for each (the
 * gate's `decisions` row and the service's `pr_decisions` row), and one decision of the CLI gate
 * (`flowgate check --record`: no pull request), for API and dashboard tests.
 */
export async function seedChanges(db: Kysely<Database>, repoKey: string, changes: { provenance: ProvenanceClass; daysAgo: number; author: string }[]): Promise<void> {
  const repo = await ensureRepository(db, repoKey, null, 'main');
  const now = Math.floor(Date.now() / 1000);
  let position = 0;
  for (const c of changes) {
    const key = `${c.author} <${c.author}@example.com>`;
    let identity = await db.selectFrom('identities').select('id').where('key', '=', key).executeTakeFirst();
    identity ??= await db
      .insertInto('identities')
      .values({ key, name: c.author, email: `${c.author}@example.com`, kind: c.provenance === 'agent' ? 'agent' : 'person', tool: null, github_login: c.author })
      .returning('id')
      .executeTakeFirstOrThrow();
    const time = now - c.daysAgo * 86_400;
    const sha = (position + 1).toString(16).padStart(40, 'a');
    await db
      .insertInto('changes')
      .values({
        repo_id: repo.id,
        sha,
        position: position++,
        parents: '[]',
        kind: 'squash',
        author_id: identity.id,
        author_name: c.author,
        author_email: `${c.author}@example.com`,
        author_time: time,
        committer_id: identity.id,
        committer_name: c.author,
        committer_email: `${c.author}@example.com`,
        commit_time: time,
        subject: `change ${position}`,
        body: '',
        trailers: '[]',
        pr_number: position,
        coding_started_at: time,
        files_changed: 1,
        lines_added: 10,
        lines_deleted: 2,
        provenance: c.provenance,
        tool: null,
        provenance_strength: 'none',
        provenance_evidence: '[]',
      })
      .execute();
    const tier = c.provenance === 'agent' ? 'standard' : 'auto';
    const decision = await db
      .insertInto('decisions')
      .values({
        repo_id: repo.id,
        subject: `${repoKey}#${position}@${sha}`,
        outcome: tier === 'auto' ? 'merge-allowed' : 'needs-review',
        tier,
        decision: JSON.stringify({ reasons: [`seeded ${c.provenance}`] }),
        created_at: time,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('pr_decisions')
      .values({
        decision_id: decision.id,
        repo: repoKey,
        pr_number: position,
        head_sha: sha,
        delivery_id: `seed-${position}`,
        tier,
        conclusion: 'success',
        risk: null,
        auto_merge: 0,
        merged: c.provenance === 'agent' ? 0 : 1,
        decision: JSON.stringify({ reasons: [`seeded ${c.provenance}`] }),
        created_at: time,
      })
      .execute();
  }
  await db
    .insertInto('decisions')
    .values({ repo_id: repo.id, subject: 'f'.repeat(40), outcome: 'blocked', tier: 'senior', decision: JSON.stringify({ reasons: ['seeded CLI check'] }), created_at: now - 3 * 86_400 })
    .execute();
}
