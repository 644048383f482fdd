import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BroughtCommit, Trailer } from '../../changes/change.ts';
import { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { detectProvenance, type ProvenanceInput } from './detect.ts';
import { builtinSignatures } from './signatures.ts';

// Real commits go through git's own message handling (cleanup, trailer formatting) and are read
// back the way a miner would, so the signatures are tested on what git actually stores.

const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };

/** Subject and body of a commit as `git log --format=%B` prints them. */
function message(repo: RepoBuilder, sha: string): { subject: string; body: string } {
  const text = repo.git('log', '-1', '--format=%B', sha).replace(/\n+$/, '');
  const [subject = '', ...rest] = text.split('\n');
  return { subject, body: rest.join('\n').replace(/^\n+/, '') };
}

/** The commit's trailers as git parses them. */
function trailers(repo: RepoBuilder, sha: string): Trailer[] {
  const out = repo.git('log', '-1', '--format=%(trailers:only,unfold)', sha);
  return out
    .split('\n')
    .map((line) => /^([^:]+):\s*(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ key: match[1] ?? '', value: match[2] ?? '' }));
}

function person(repo: RepoBuilder, sha: string, who: 'a' | 'c'): { name: string; email: string } {
  const [name = '', email = ''] = repo.git('log', '-1', `--format=%${who}n%x00%${who}e`, sha).trim().split('\0');
  return { name, email };
}

/** A change read back from the repository; `withTrailers: false` leaves only the raw body. */
function readChange(repo: RepoBuilder, sha: string, withTrailers: boolean): ProvenanceInput {
  const notes = repo.git('notes', '--ref', 'refs/notes/ai', 'list').includes(sha) ? [{ ref: 'refs/notes/ai', body: repo.git('notes', '--ref', 'refs/notes/ai', 'show', sha) }] : [];
  const parents = repo.git('log', '-1', '--format=%P', sha).trim().split(' ');
  const commits: BroughtCommit[] = [];
  if (parents.length > 1) {
    for (const brought of repo.git('rev-list', `${sha}^1..${sha}^2`).trim().split('\n')) {
      commits.push({ sha: brought, author: person(repo, brought, 'a'), authorTime: 0, ...message(repo, brought), trailers: withTrailers ? trailers(repo, brought) : [] });
    }
  }
  return {
    author: person(repo, sha, 'a'),
    committer: person(repo, sha, 'c'),
    ...message(repo, sha),
    trailers: withTrailers ? trailers(repo, sha) : [],
    headBranch: null,
    commits,
    notes,
  };
}

describe('detectProvenance on commits read back from a real repository', () => {
  const repo = new RepoBuilder();
  const shas: Record<string, string> = {};

  beforeAll(() => {
    repo.write('README.md', '# demo\n');
    shas.human = repo.commit('Initial commit\n\nCo-authored-by: Claude Monet <claude@monet.org>\n', { author: { name: 'Claude Dupont', email: 'claude@dupont.fr' } });
    repo.write('src/a.ts', 'export const a = 1;\n');
    shas.claude = repo.commit('Add a\n\nExplain why.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n', { author: ada });
    repo.write('src/b.ts', 'export const b = 2;\n');
    shas.aider = repo.commit('aider: Add b', { author: { name: 'Ada Lovelace (aider)', email: 'ada@example.com' } });
    repo.note(shas.aider, ['src/b.ts', '  0123456789abcdef 1', '---', JSON.stringify({ schema_version: 'authorship/3.0.0', prompts: { '0123456789abcdef': { agent_id: { tool: 'aider', model: 'gpt-4o' } } } })].join('\n'), 'refs/notes/ai');
    repo.checkout('feature', true);
    repo.write('src/c.ts', 'export const c = 3;\n');
    repo.commit('Add c', { author: ada });
    repo.write('src/c.ts', 'export const c = 4;\n');
    repo.commit('Tune c\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>', { author: ada });
    repo.checkout('main');
    shas.merge = repo.merge('feature', 'Merge pull request #3 from acme/feature', { author: ada });
  });

  afterAll(() => repo.dispose());

  for (const withTrailers of [true, false]) {
    const mode = withTrailers ? 'with git-parsed trailers' : 'from the message body alone';
    it(`keeps the look-alike human (${mode})`, () => {
      expect(detectProvenance(readChange(repo, shas.human ?? '', withTrailers), builtinSignatures).class).toBe('human');
    });

    it(`finds Claude Code's trailer and footer (${mode})`, () => {
      const result = detectProvenance(readChange(repo, shas.claude ?? '', withTrailers), builtinSignatures);
      expect(result).toMatchObject({ class: 'ai-assisted', tool: 'claude-code', strength: 'weak' });
      expect(result.evidence.map((e) => [e.signature, e.where, e.matched])).toEqual([
        ['claude-code-coauthor', 'trailer', 'Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>'],
        ['claude-code-generated-body', 'body', 'Generated with [Claude Code](https://claude.com/claude-code)'],
      ]);
    });

    it(`finds aider's author, subject and git-ai note (${mode})`, () => {
      const result = detectProvenance(readChange(repo, shas.aider ?? '', withTrailers), builtinSignatures);
      expect(result).toMatchObject({ class: 'ai-assisted', tool: 'aider' });
      expect(result.evidence.map((e) => e.signature).sort()).toEqual(['aider-author-name', 'aider-subject', 'git-ai-note']);
      expect(result.evidence.find((e) => e.signature === 'git-ai-note')).toMatchObject({ tool: 'aider', where: 'note:refs/notes/ai' });
    });

    it(`finds the trailer of a commit the merge brought in (${mode})`, () => {
      const input = readChange(repo, shas.merge ?? '', withTrailers);
      expect(input.commits).toHaveLength(2);
      const result = detectProvenance(input, builtinSignatures);
      expect(result).toMatchObject({ class: 'ai-assisted', tool: 'copilot' });
      const tuned = input.commits.find((c) => c.subject === 'Tune c');
      expect(result.evidence).toEqual([expect.objectContaining({ signature: 'copilot-coauthor', where: `commit:${tuned?.sha.slice(0, 7) ?? ''}/trailer` })]);
    });
  }
});
