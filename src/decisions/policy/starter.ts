import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFileName } from '../../core/config.ts';
import { FlowgateError } from '../../core/errors.ts';
import { gitSync } from '../../sources/git/git.ts';

/** The commented starter .flowgate.yml that `flowgate init` writes; it parses to the defaults plus examples. */
export const starterPolicy = `# flowgate policy. The gate always reads this file from the BASE revision of a change, never from
# the change itself: editing it in a pull request cannot loosen the gate for that pull request.
# Every section is optional; see docs/policy.md. Editor completion: run
# \`flowgate policy schema > .flowgate.schema.json\` and add the line
# \`# yaml-language-server: $schema=.flowgate.schema.json\` at the top of this file.
version: 1

# Review tiers, lowest first. A change goes to the lowest tier whose limits admit both its risk
# (when a risk model is trained) and its size (lines added + deleted); rules below can raise it.
tiers:
  auto:
    maxRisk: 0.1
    maxLines: 50
    approvals: { count: 0 }
    checks: []            # e.g. [test, lint]: check runs that must pass on the head commit
  light:
    maxRisk: 0.3
    maxLines: 200
    approvals: { count: 1 }
  standard:
    maxRisk: 0.6
    maxLines: 800
    approvals: { count: 1, codeOwners: true }
  senior:
    approvals: { count: 1, from: [seniors], codeOwners: true }
  # Without a risk estimate, a change that fits no lane starts here:
  unscored: light

# Floors: a change touching any of these paths is at least the given tier.
rules:
  floors:
    - name: migrations
      paths: ["migrations/**", "**/migrations/**"]
      tier: senior
  # Lowest tier per provenance class (human, ai-assisted, agent, automation):
  provenance: {}

# Lanes: a change qualifies only if EVERY file qualifies.
lanes:
  docs: { tier: auto }
  tests: { tier: light }
  lockfile: { tier: light }
  formatting: { tier: auto }   # old and new differ only in whitespace

# Identities. Logins or e-mails; CODEOWNERS entries @org/<team> match the team named <team>.
teams: {}
#  backend:
#    members: [alice, bob@example.com]
seniors: []
#  - alice

# AI agents: who owns each, and what it may do. Agents can never approve.
agents: []
#  - id: claude
#    tool: claude-code
#    accounts: ["claude[bot]"]
#    owner: alice
#    allow: ["src/**", "test/**"]
#    deny: [".github/**", "infra/**"]
#    maxTier: light
#    maxLines: 400

# Automation accounts (never count as approvers) in addition to *[bot] logins:
automation: []

# Extra protected paths. Built in, always: .flowgate.yml, CODEOWNERS, CI configuration
# (.github/workflows/**, .gitlab-ci.yml, ...). They need senior review and a human owner.
protected: []

# Trust: an agent loses the auto lane after maxEscapes escapes and earns it back after
# regainAfter clean changes in a row.
trust:
  maxEscapes: 2
  regainAfter: 20
`;

/** The root of the work tree that contains `path`; NOT_A_REPOSITORY when there is none. */
function repositoryRoot(path: string): string {
  try {
    return gitSync(path, ['rev-parse', '--show-toplevel']).trim();
  } catch (error) {
    throw new FlowgateError('NOT_A_REPOSITORY', `${path} is not inside a git work tree. Run flowgate init in (or pass the path of) a repository.`, { cause: error });
  }
}

/** Writes the starter policy at the repository's root; refuses to replace an existing one unless `force`. */
export function writeStarterPolicy(path: string, force = false): string {
  const file = join(repositoryRoot(path), configFileName);
  if (existsSync(file) && !force) {
    throw new FlowgateError('USAGE', `${file} already exists. Edit it, or pass --force to replace it with the starter policy.`, { details: { file } });
  }
  writeFileSync(file, starterPolicy);
  return file;
}
