import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestPayload } from '../../service/__fixtures__/service-harness.ts';
import { startFakeGitHub, type FakeGitHub } from './__fixtures__/fake-github.ts';
import { executeGql, parseGql } from './__fixtures__/graphql-lite.ts';
import { gitHubClients, type GitHubClient } from './client.ts';
import { fetchPullRequestFacts } from './pull-request.ts';

describe('fetchPullRequestFacts (one GraphQL query against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let client: GitHubClient;

  beforeAll(async () => {
    fake = await startFakeGitHub();
    fake.addRepo('acme', 'facts', 3);
    ({ client } = await gitHubClients({ baseUrl: fake.url, appId: fake.appId, privateKey: fake.privateKey }).forRepo('acme', 'facts', 3));
  });
  afterAll(() => fake.close());

  const graphqlSince = (mark: number): string[][] => fake.requests.slice(mark).filter((r) => r.path === '/graphql').map((r) => r.graphql ?? []);

  it('reads the pull request, files, commits, reviews, head checks, policy and CODEOWNERS of the base in one request', async () => {
    const payload = pullRequestPayload('opened', { owner: 'acme', repo: 'facts', number: 1 });
    const base = 'a'.repeat(40);
    payload.pull_request.base.sha = base;
    fake.addPull('acme/facts', payload.pull_request, { files: [{ filename: 'src/a.ts', additions: 4, deletions: 1 }], reviews: [{ login: 'rev', state: 'APPROVED' }] });
    fake.repo('acme/facts').policies.set(base, 'tiers:\n  auto:\n    checks: ["ci"]\n');
    fake.repo('acme/facts').blobs.set(`${base}:.github/CODEOWNERS`, '/src/ @acme/core\n');
    fake.addCheckRun('acme/facts', payload.pull_request.head.sha, 'ci', 'success');
    fake.addCheckRun('acme/facts', payload.pull_request.head.sha, 'flowgate', 'neutral');
    const mark = fake.requests.length;
    const fetched = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'facts', number: 1 }, { baseSha: base });
    expect(fake.requests.slice(mark).filter((r) => !r.path.includes('/access_tokens'))).toHaveLength(1);
    expect(graphqlSince(mark)).toEqual([['pullRequest', 'file0', 'file1', 'file2', 'file3']]);
    expect(fetched.requests).toBe(1);
    const { facts } = fetched;
    expect(facts.headSha).toBe(payload.pull_request.head.sha);
    expect(facts.baseSha).toBe(base);
    expect(facts.files).toEqual([{ path: 'src/a.ts', previousPath: null, status: 'modified', additions: 4, deletions: 1 }]);
    expect(facts.commits.map((c) => c.sha)).toEqual([payload.pull_request.head.sha]);
    expect(facts.reviews).toMatchObject([{ login: 'rev', state: 'APPROVED', commitId: payload.pull_request.head.sha }]);
    expect(facts.checks).toEqual([{ name: 'ci', status: 'completed', conclusion: 'success' }]);
    expect(fetched.ownCheckRunId).toBe(fake.repo('acme/facts').checkRuns.find((r) => r.name === 'flowgate')?.id);
    expect(facts.policyText).toContain('checks: ["ci"]');
    expect(facts.codeOwners).toEqual({ source: `.github/CODEOWNERS at ${base}`, text: '/src/ @acme/core\n' });

    // The base commit's files never change: the next decision on that base does not ask for them.
    const again = fake.requests.length;
    const second = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'facts', number: 1 }, { baseSha: base });
    expect(graphqlSince(again)).toEqual([['pullRequest']]);
    expect(second.facts.policyText).toBe(facts.policyText);
  });

  it('reads the base files again when the base moved, pages past 100 files, and takes renames from the REST list', async () => {
    const payload = pullRequestPayload('opened', { owner: 'acme', repo: 'facts', number: 2 });
    payload.pull_request.base.sha = 'b'.repeat(40);
    const files = Array.from({ length: 130 }, (_, i) => ({ filename: `f/${i}.ts`, additions: 1, deletions: 0 }));
    const pull = fake.addPull('acme/facts', payload.pull_request, { files });
    const renamed = pull.files[5];
    if (renamed === undefined) throw new Error('no file');
    Object.assign(renamed, { status: 'renamed', previous_filename: 'old/5.ts' });
    fake.repo('acme/facts').policies.set(payload.pull_request.base.sha, 'tiers: {}\n');
    const mark = fake.requests.length;
    const { facts, requests } = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'facts', number: 2 }, { baseSha: 'f'.repeat(40) });
    // facts + base files at the real base + the second page of files + two pages of the REST file list for the rename.
    expect(requests).toBe(5);
    expect(fake.requests.slice(mark).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /graphql',
      'POST /graphql',
      'POST /graphql',
      'GET /repos/acme/facts/pulls/2/files',
      'GET /repos/acme/facts/pulls/2/files',
    ]);
    expect(facts.files).toHaveLength(130);
    expect(facts.files[5]).toMatchObject({ path: 'f/5.ts', previousPath: 'old/5.ts', status: 'renamed' });
    expect(facts.policyText).toBe('tiers: {}\n');
  });

  it('keeps REST bot logins and reports a missing pull request as NOT_FOUND', async () => {
    const payload = pullRequestPayload('opened', { owner: 'acme', repo: 'facts', number: 3 });
    payload.pull_request.user.login = 'dependabot[bot]';
    payload.pull_request.user.type = 'Bot';
    fake.addPull('acme/facts', payload.pull_request);
    const { facts } = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'facts', number: 3 });
    expect(facts.author).toEqual({ login: 'dependabot[bot]', type: 'Bot' });
    await expect(fetchPullRequestFacts(client, { owner: 'acme', repo: 'facts', number: 99 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('the fake GitHub GraphQL endpoint checks the request shape', () => {
  const schema = {
    Query: { repository: { type: 'Repository', args: { owner: { required: true }, name: { required: true } }, resolve: () => ({ name: 'x' }) } },
    Repository: { name: { type: 'String', resolve: (r: unknown) => (r as { name: string }).name } },
  };
  it('answers a well-formed query and rejects unknown fields, missing arguments, undeclared variables and mutations', () => {
    const run = (query: string, variables: Record<string, unknown> = {}): unknown => executeGql(schema, parseGql(query), variables);
    expect(run('query($o: String!) { repository(owner: $o, name: "n") { name } }', { o: 'a' })).toEqual({ repository: { name: 'x' } });
    expect(() => run('{ repository(owner: "a", name: "n") { nmae } }')).toThrow("Field 'nmae' doesn't exist on type 'Repository'");
    expect(() => run('{ repository(owner: "a") { name } }')).toThrow('missing required argument: name');
    expect(() => run('{ repository(owner: $o, name: "n") { name } }')).toThrow('Variable $o is used but not declared');
    expect(() => run('mutation { repository(owner: "a", name: "n") { name } }')).toThrow('queries only');
    expect(() => run('{ repository(owner: "a", name: "n") }')).toThrow('must have selections');
  });
});
