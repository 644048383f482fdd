import { RepoBuilder, type Signature } from '../../../sources/git/__fixtures__/repo-builder.ts';
import { loadPolicyAt } from '../../policy/policy.ts';
import { collectChangeFacts } from '../facts.ts';
import { decideChange } from '../decide.ts';
import type { Approval, Decision, DecisionInput } from '../types.ts';

/** The base policy most gate tests run under. */
export const basePolicy = `
identities:
  aliases:
    - canonical: "Olivia <olivia@example.com>"
      github: olivia
    - canonical: "Dev <dev@example.com>"
      github: dev
    - canonical: "Bob <bob@example.com>"
      github: bob
teams:
  backend:
    members: [bob, carol@example.com]
seniors: [sam]
agents:
  - id: claude
    tool: claude-code
    accounts: ["claude-agent@example.com"]
    owner: olivia
    allow: ["src/**", "docs/**", "tests/**", "README.md", "package-lock.json"]
    deny: ["src/secrets/**"]
    maxTier: standard
    maxLines: 300
tiers:
  standard:
    checks: [ci]
  senior:
    checks: [ci]
`;

export const codeOwners = `
# default owner
*             @dev
/src/api/     @org/backend
/docs/        @dina
`;

export const people = {
  dev: { name: 'Dev', email: 'dev@example.com' },
  agent: { name: 'Claude Agent', email: 'claude-agent@example.com' },
  olivia: { name: 'Olivia', email: 'olivia@example.com' },
} satisfies Record<string, Signature>;

/** A repository on `main` with the base policy, CODEOWNERS and a small tree of sources. */
export function gateRepo(policy = basePolicy): RepoBuilder {
  const repo = new RepoBuilder();
  repo
    .write('.flowgate.yml', policy)
    .write('.github/CODEOWNERS', codeOwners)
    .write('README.md', '# project\n')
    .write('docs/guide.md', '# guide\n\nSome words.\n')
    .write('src/app.ts', 'export function add(a: number, b: number): number {\n  return a + b;\n}\n')
    .write('src/api/handler.ts', 'export const handler = () => 1;\n')
    .write('src/util.ts', 'export const one = 1;\n')
    .write('package-lock.json', '{ "lockfileVersion": 3 }\n')
    .commit('initial', { author: people.dev });
  return repo;
}

/** Commits `edits` (null deletes) on a new branch from main and returns to main; returns the head sha. */
export function branchWith(repo: RepoBuilder, name: string, edits: Record<string, string | null>, options: { author?: Signature; message?: string } = {}): string {
  repo.checkout('main').checkout(name, true);
  for (const [path, content] of Object.entries(edits)) {
    if (content === null) repo.remove(path);
    else repo.write(path, content);
  }
  const sha = repo.commit(options.message ?? `change on ${name}`, { author: options.author ?? people.dev });
  repo.checkout('main');
  return sha;
}

/** Lines of text for size tests. */
export function lines(count: number, prefix = 'line'): string {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i}`).join('\n') + '\n';
}

// Git reads are the slow part of these tests; a head is read once per set of approved shas.
const factsCache = new Map<string, Awaited<ReturnType<typeof collectChangeFacts>>>();
const policyCache = new Map<string, ReturnType<typeof loadPolicyAt>>();

/** Collects facts from git (memoised per repository, base, head and approved shas), reads the base policy and decides, as `flowgate check` does. */
export async function decideIn(repo: RepoBuilder, head: string, extra: Partial<Pick<DecisionInput, 'risk' | 'checks' | 'trust'>> & { approvals?: Approval[]; base?: string } = {}): Promise<Decision> {
  const base = extra.base ?? 'main';
  const approvals = extra.approvals ?? [];
  const shas = approvals.map((a) => a.sha);
  const policyKey = `${repo.dir}\0${repo.git('rev-parse', base).trim()}`;
  const policy = policyCache.get(policyKey) ?? loadPolicyAt(repo.dir, base);
  policyCache.set(policyKey, policy);
  const factsKey = `${policyKey}\0${head}\0${[...new Set(shas)].sort().join(',')}`;
  const change = factsCache.get(factsKey) ?? await collectChangeFacts(repo.dir, base, head, { approvedShas: shas });
  factsCache.set(factsKey, change);
  return decideChange({ policy, change, risk: extra.risk ?? null, approvals, checks: extra.checks ?? [], trust: extra.trust ?? null });
}
