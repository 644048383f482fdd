import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestPayload } from '../../service/__fixtures__/service-harness.ts';
import { startFakeGitHub, type FakeGitHub } from './__fixtures__/fake-github.ts';
import { gitHubClients, type GitHubClient } from './client.ts';
import { gitHubGraphql, gitHubRequest, graphqlUrl } from './http.ts';

describe('the lean GitHub request path (against the fake GitHub)', () => {
  let fake: FakeGitHub;
  let client: GitHubClient;

  beforeAll(async () => {
    fake = await startFakeGitHub();
    fake.addRepo('acme', 'lean', 5);
    fake.addPull('acme/lean', pullRequestPayload('opened', { owner: 'acme', repo: 'lean', number: 1 }).pull_request);
    ({ client } = await gitHubClients({ baseUrl: fake.url, appId: fake.appId, privateKey: fake.privateKey }).forRepo('acme', 'lean', 5));
  });
  afterAll(() => fake.close());

  it('sends the installation token, retries a read on 5xx, and leaves a failed write to the caller', async () => {
    fake.fail({ method: 'GET', path: /^\/repos\/acme\/lean\/pulls\/1$/, status: 502, times: 1 });
    const pull = await gitHubRequest<{ number: number }>(client, 'GET', '/repos/acme/lean/pulls/1');
    expect(pull.number).toBe(1);
    expect(fake.count('GET', /^\/repos\/acme\/lean\/pulls\/1$/)).toBe(2);

    fake.fail({ method: 'POST', path: /^\/repos\/acme\/lean\/issues\/1\/comments$/, status: 502, times: 1 });
    await expect(gitHubRequest(client, 'POST', '/repos/acme/lean/issues/1/comments', { body: 'x' })).rejects.toMatchObject({ code: 'UPSTREAM_FAILED', status: 502 });
    expect(fake.count('POST', /^\/repos\/acme\/lean\/issues\/1\/comments$/)).toBe(1);
    expect(fake.repo('acme/lean').comments).toHaveLength(0);

    const created = await gitHubRequest<{ id: number }>(client, 'POST', '/repos/acme/lean/issues/1/comments', { body: 'hello' });
    expect(fake.repo('acme/lean').comments.map((c) => [c.id, c.body])).toEqual([[created.id, 'hello']]);
  });

  it('answers GraphQL data and fails on GraphQL errors with their message', async () => {
    const data = await gitHubGraphql<{ repository: { pullRequest: { title: string } | null } }>(
      client,
      'query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { pullRequest(number: 1) { title } } }',
      { owner: 'acme', name: 'lean' },
    );
    expect(data.repository.pullRequest?.title).toBeTypeOf('string');
    await expect(gitHubGraphql(client, 'query { repository(owner: "acme", name: "lean") { nmae } }', {})).rejects.toMatchObject({
      code: 'UPSTREAM_FAILED',
      message: expect.stringContaining("Field 'nmae' doesn't exist") as unknown,
    });
  });

  it('finds GitHub Enterprise GraphQL beside its REST API', () => {
    expect(graphqlUrl('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com/api/graphql');
    expect(graphqlUrl('https://api.github.com')).toBe('https://api.github.com/graphql');
  });
});
