import { existsSync, readFileSync } from 'node:fs';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/rest';
import { FlowgateError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { retryPlugin } from './retry.ts';

/** The Octokit flowgate talks to GitHub with: REST methods, pagination, retries and rate-limit waits. */
export const GitHubOctokit = Octokit.plugin(retryPlugin);
export type GitHubClient = InstanceType<typeof GitHubOctokit>;

/** How to reach GitHub as the flowgate GitHub App (or with a plain token for the CLI). */
export interface GitHubConfig {
  /** REST base URL: https://api.github.com, a GitHub Enterprise `/api/v3` URL, or a fake in tests. */
  baseUrl: string;
  appId?: string;
  /** The App's private key (PEM text). */
  privateKey?: string;
  /** A personal or installation token, used instead of the App when set. */
  token?: string;
}

/** Reads the GitHub settings from the environment; FLOWGATE_GITHUB_PRIVATE_KEY is PEM text or a file path. */
export function gitHubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubConfig {
  const baseUrl = env['FLOWGATE_GITHUB_API_URL'] || 'https://api.github.com';
  const config: GitHubConfig = { baseUrl: baseUrl.replace(/\/+$/, '') };
  const appId = env['FLOWGATE_GITHUB_APP_ID'];
  const key = env['FLOWGATE_GITHUB_PRIVATE_KEY'];
  const token = env['FLOWGATE_GITHUB_TOKEN'] || env['GITHUB_TOKEN'];
  if (appId) config.appId = appId;
  if (key) config.privateKey = key.includes('-----BEGIN') ? key.replace(/\\n/g, '\n') : readKeyFile(key);
  if (token) config.token = token;
  return config;
}

function readKeyFile(path: string): string {
  if (!existsSync(path)) {
    throw new FlowgateError('USAGE', `FLOWGATE_GITHUB_PRIVATE_KEY is neither a PEM key nor an existing file: ${path}. Set it to the App's private key or its path.`);
  }
  return readFileSync(path, 'utf8');
}

/** Gives GitHub clients per repository: installation tokens for the App (cached until they expire), else the token. */
export interface GitHubClients {
  forRepo(owner: string, repo: string, installationId?: number | null): Promise<{ client: GitHubClient; installationId: number | null }>;
}

/** Builds the client factory from the config; fails clearly when no credentials are configured. */
export function gitHubClients(config: GitHubConfig): GitHubClients {
  const ClientClass = GitHubOctokit.defaults({ baseUrl: config.baseUrl, userAgent: 'flowgate' });
  // Octokit logs every failed request; flowgate handles (and logs) the ones that matter itself.
  const quiet = { debug: () => undefined, info: () => undefined, warn: (m: string) => log.debug(m), error: (m: string) => log.debug(m) };
  if (config.appId !== undefined && config.privateKey !== undefined) {
    const app = new App({ appId: config.appId, privateKey: config.privateKey, Octokit: ClientClass, log: quiet });
    const installations = new Map<string, number>();
    const clients = new Map<number, Promise<GitHubClient>>();
    return {
      forRepo: async (owner, repo, installationId) => {
        let id = installationId ?? installations.get(`${owner}/${repo}`);
        if (id === undefined) {
          const { data } = await app.octokit.request('GET /repos/{owner}/{repo}/installation', { owner, repo });
          id = data.id;
        }
        installations.set(`${owner}/${repo}`, id);
        let client = clients.get(id);
        if (client === undefined) {
          // Each installation's Octokit caches its token and renews it before it expires.
          client = app.getInstallationOctokit(id);
          clients.set(id, client);
        }
        return { client: await client, installationId: id };
      },
    };
  }
  if (config.token !== undefined) {
    const client = new ClientClass({ auth: config.token, log: quiet });
    return { forRepo: () => Promise.resolve({ client, installationId: null }) };
  }
  throw new FlowgateError(
    'USAGE',
    'No GitHub credentials: set FLOWGATE_GITHUB_APP_ID and FLOWGATE_GITHUB_PRIVATE_KEY (the GitHub App), or FLOWGATE_GITHUB_TOKEN.',
  );
}
