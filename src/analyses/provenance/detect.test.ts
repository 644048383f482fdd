import { describe, expect, it } from 'vitest';
import type { BroughtCommit } from '../../changes/change.ts';
import { detectProvenance, type ProvenanceInput } from './detect.ts';
import { builtinSignatures } from './signatures.ts';

const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };

/** A plainly human change, to which each case adds one signal. */
function change(overrides: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return { author: ada, committer: ada, subject: 'Add the parser', body: '', trailers: [], headBranch: null, commits: [], notes: [], ...overrides };
}

function brought(sha: string, overrides: Partial<BroughtCommit> = {}): BroughtCommit {
  return { sha, author: ada, authorTime: 1_700_000_000, subject: 'Work on the parser', body: '', trailers: [], ...overrides };
}

const trailer = (key: string, value: string): Pick<ProvenanceInput, 'trailers'> => ({ trailers: [{ key, value }] });

const gitAiNote = (tool: string, model: string, ranges: string): string =>
  [
    'src/parser.ts',
    `  abcd1234abcd1234 ${ranges}`,
    '---',
    JSON.stringify({
      schema_version: 'authorship/3.0.0',
      base_commit_sha: '7734793b756b3921c88db5375a8c156e9532447b',
      prompts: {
        abcd1234abcd1234: { agent_id: { tool, id: 'session-1', model }, human_author: 'Ada <ada@example.com>', messages: [], total_additions: 10, total_deletions: 0, accepted_lines: 10, overriden_lines: 0 },
      },
    }),
  ].join('\n');

/** One positive case per signature row (some rows get a second form); `id` is the row expected to match. */
const positives: { id: string; label: string; input: ProvenanceInput }[] = [
  { id: 'claude-code-coauthor', label: 'without model name', input: change(trailer('Co-Authored-By', 'Claude <noreply@anthropic.com>')) },
  { id: 'claude-code-coauthor', label: 'with model name', input: change(trailer('Co-Authored-By', 'Claude Opus 4.5 <noreply@anthropic.com>')) },
  { id: 'claude-code-generated-body', label: 'claude.ai/code', input: change({ body: 'Refactor.\n\n🤖 Generated with [Claude Code](https://claude.ai/code)' }) },
  { id: 'claude-code-generated-body', label: 'claude.com/claude-code', input: change({ body: '🤖 Generated with [Claude Code](https://claude.com/claude-code)' }) },
  { id: 'claude-code-generated-pr-body', label: 'PR footer', input: change({ prBody: '## Summary\n- x\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)' }) },
  { id: 'claude-code-session-trailer', label: 'web session', input: change(trailer('Claude-Session', 'https://claude.ai/code/session_01AbCdEfGh')) },
  { id: 'claude-branch', label: 'web slug', input: change({ headBranch: 'claude/fix-login-redirect' }) },
  { id: 'claude-branch', label: 'GitHub app issue branch', input: change({ headBranch: 'claude/issue-42-20250612-1430' }) },
  { id: 'claude-bot-author-name', label: 'claude[bot]', input: change({ author: { name: 'claude[bot]', email: 'x@example.com' } }) },
  { id: 'claude-bot-author-email', label: 'noreply', input: change({ author: { name: 'Claude', email: '209825114+claude[bot]@users.noreply.github.com' } }) },
  { id: 'claude-bot-pr-author', label: 'login', input: change({ prAuthorLogin: 'claude[bot]' }) },
  { id: 'claude-bot-coauthor', label: 'squash co-author', input: change(trailer('Co-authored-by', 'claude[bot] <209825114+claude[bot]@users.noreply.github.com>')) },
  { id: 'copilot-agent-author-email', label: 'noreply', input: change({ author: { name: 'Copilot', email: '198982749+Copilot@users.noreply.github.com' } }) },
  { id: 'copilot-agent-author-name', label: 'swe agent', input: change({ author: { name: 'copilot-swe-agent[bot]', email: 'x@example.com' } }) },
  { id: 'copilot-agent-pr-author', label: 'login Copilot', input: change({ prAuthorLogin: 'Copilot' }) },
  { id: 'copilot-agent-pr-author', label: 'login copilot-swe-agent[bot]', input: change({ prAuthorLogin: 'copilot-swe-agent[bot]' }) },
  { id: 'copilot-agent-branch', label: 'branch', input: change({ headBranch: 'copilot/fix-123' }) },
  { id: 'copilot-agent-pr-body', label: 'marker', input: change({ prBody: 'Fixes #1\n\n<!-- START COPILOT CODING AGENT SUFFIX -->\n...' }) },
  { id: 'copilot-agent-body', label: 'marker in squash body', input: change({ body: 'Fixes #1\n<!-- START COPILOT CODING AGENT SUFFIX -->' }) },
  { id: 'copilot-agent-coauthor', label: 'squash co-author', input: change(trailer('Co-authored-by', 'Copilot <198982749+Copilot@users.noreply.github.com>')) },
  { id: 'copilot-coauthor', label: 'IDE', input: change(trailer('Co-authored-by', 'Copilot <223556219+Copilot@users.noreply.github.com>')) },
  { id: 'copilot-coauthor-legacy', label: 'copilot@github.com', input: change(trailer('Co-authored-by', 'Copilot <copilot@github.com>')) },
  { id: 'copilot-suggestion-coauthor', label: 'review suggestion', input: change(trailer('Co-authored-by', 'Copilot <175728472+Copilot@users.noreply.github.com>')) },
  { id: 'codex-coauthor', label: 'CLI', input: change(trailer('Co-authored-by', 'Codex <noreply@openai.com>')) },
  { id: 'codex-task-pr-body', label: 'task link', input: change({ prBody: 'https://chatgpt.com/codex/tasks/task_e_68a1b2c3d4' }) },
  { id: 'codex-task-body', label: 'task link in body', input: change({ body: 'Codex task: https://chatgpt.com/codex/tasks/task_e_68a1b2c3d4' }) },
  { id: 'codex-branch', label: 'branch', input: change({ headBranch: 'codex/add-retry-logic' }) },
  { id: 'codex-author', label: 'author', input: change({ author: { name: 'Codex', email: 'codex@openai.com' } }) },
  { id: 'cursor-agent-author', label: 'background agent', input: change({ author: { name: 'Cursor Agent', email: 'cursoragent@cursor.com' } }) },
  { id: 'cursor-coauthor', label: 'Cursor Agent', input: change(trailer('Co-authored-by', 'Cursor Agent <cursoragent@cursor.com>')) },
  { id: 'cursor-coauthor', label: 'Cursor', input: change(trailer('Co-authored-by', 'Cursor <cursoragent@cursor.com>')) },
  { id: 'cursor-made-with', label: 'Made-with', input: change(trailer('Made-with', 'Cursor')) },
  { id: 'cursor-branch', label: 'branch', input: change({ headBranch: 'cursor/refactor-auth-1a2b' }) },
  { id: 'cursor-bot-author-name', label: 'cursor[bot]', input: change({ author: { name: 'cursor[bot]', email: 'x@example.com' } }) },
  { id: 'cursor-bot-coauthor', label: 'suggestion', input: change(trailer('Co-authored-by', 'cursor[bot] <206951365+cursor[bot]@users.noreply.github.com>')) },
  { id: 'aider-author-name', label: 'name suffix', input: change({ author: { name: 'Ada Lovelace (aider)', email: 'ada@example.com' } }) },
  { id: 'aider-coauthor', label: 'aider.chat', input: change(trailer('Co-authored-by', 'aider (anthropic/claude-sonnet-4) <aider@aider.chat>')) },
  { id: 'aider-coauthor-legacy', label: 'aider.dev', input: change(trailer('Co-authored-by', 'aider (gpt-4o) <noreply@aider.dev>')) },
  { id: 'aider-subject', label: 'subject prefix', input: change({ subject: 'aider: Add retry to the fetcher' }) },
  { id: 'devin-bot-author-name', label: 'bot name', input: change({ author: { name: 'devin-ai-integration[bot]', email: 'x@example.com' } }) },
  { id: 'devin-bot-author-email', label: 'noreply', input: change({ author: { name: 'Devin', email: '158243242+devin-ai-integration[bot]@users.noreply.github.com' } }) },
  { id: 'devin-pr-author', label: 'login', input: change({ prAuthorLogin: 'devin-ai-integration[bot]' }) },
  { id: 'devin-branch', label: 'branch', input: change({ headBranch: 'devin/1735689600-fix-flaky-test' }) },
  { id: 'devin-session-pr-body', label: 'session link', input: change({ prBody: 'Link to Devin run: https://app.devin.ai/sessions/0123abcd4567ef' }) },
  { id: 'devin-session-body', label: 'session link in body', input: change({ body: 'https://app.devin.ai/sessions/0123abcd4567ef' }) },
  { id: 'devin-coauthor', label: 'squash co-author', input: change(trailer('Co-authored-by', 'devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>')) },
  { id: 'jules-bot-author-name', label: 'bot name', input: change({ author: { name: 'google-labs-jules[bot]', email: 'x@example.com' } }) },
  { id: 'jules-bot-author-email', label: 'noreply', input: change({ author: { name: 'Jules', email: '161369871+google-labs-jules[bot]@users.noreply.github.com' } }) },
  { id: 'jules-pr-author', label: 'login', input: change({ prAuthorLogin: 'google-labs-jules[bot]' }) },
  { id: 'gemini-code-assist-coauthor', label: 'suggestion', input: change(trailer('Co-authored-by', 'gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>')) },
  { id: 'amazon-q-bot-author-name', label: 'bot name', input: change({ author: { name: 'amazon-q-developer[bot]', email: 'x@example.com' } }) },
  { id: 'amazon-q-bot-author-email', label: 'noreply', input: change({ author: { name: 'Amazon Q', email: '208079219+amazon-q-developer[bot]@users.noreply.github.com' } }) },
  { id: 'amazon-q-pr-author', label: 'gh CLI login', input: change({ prAuthorLogin: 'app/amazon-q-developer' }) },
  { id: 'openhands-coauthor', label: 'trailer', input: change(trailer('Co-authored-by', 'openhands <openhands@all-hands.dev>')) },
  { id: 'openhands-branch', label: 'resolver branch', input: change({ headBranch: 'openhands-fix-issue-123' }) },
  { id: 'factory-bot-author-name', label: 'bot name', input: change({ author: { name: 'factory-droid[bot]', email: 'x@example.com' } }) },
  { id: 'factory-bot-author-email', label: 'noreply', input: change({ author: { name: 'Droid', email: '138933559+factory-droid[bot]@users.noreply.github.com' } }) },
  { id: 'factory-pr-author', label: 'login', input: change({ prAuthorLogin: 'factory-droid[bot]' }) },
  { id: 'opencode-coauthor', label: 'trailer', input: change(trailer('Co-authored-by', 'opencode <noreply@opencode.ai>')) },
  { id: 'amp-coauthor', label: 'trailer', input: change(trailer('Co-authored-by', 'Amp <amp@ampcode.com>')) },
  { id: 'amp-thread-trailer', label: 'thread id', input: change(trailer('Amp-Thread-ID', 'https://ampcode.com/threads/T-5928a90d-d53b-488f-a829-4e36442142ee')) },
  { id: 'git-ai-note', label: 'authorship log', input: change({ notes: [{ ref: 'refs/notes/ai', body: gitAiNote('git-ai-test', 'm', '1-10') }] }) },
  { id: 'agent-trace-record', label: 'trace record', input: change({ notes: [{ ref: 'refs/notes/agent-trace', body: '{"version":"0.1.0","id":"x","files":[{"path":"a.ts","conversations":[{"contributor":{"type":"ai","model_id":"anthropic/claude-opus-4-5"},"ranges":[{"start_line":1,"end_line":9}]}]}]}' }] }) },
  { id: 'assisted-by-trailer', label: 'kernel form', input: change(trailer('Assisted-by', 'Claude:claude-3-opus coccinelle sparse')) },
  { id: 'generated-by-trailer', label: 'Apache form', input: change(trailer('Generated-by', 'ChatGPT 4o')) },
  { id: 'dependabot-author-name', label: 'bot name', input: change({ author: { name: 'dependabot[bot]', email: 'x@example.com' } }) },
  { id: 'dependabot-author-email', label: 'noreply', input: change({ author: { name: 'Dependabot', email: '49699333+dependabot[bot]@users.noreply.github.com' } }) },
  { id: 'dependabot-pr-author', label: 'login', input: change({ prAuthorLogin: 'dependabot[bot]' }) },
  { id: 'dependabot-branch', label: 'branch', input: change({ headBranch: 'dependabot/npm_and_yarn/lodash-4.17.21' }) },
  { id: 'renovate-author-name', label: 'bot name', input: change({ author: { name: 'renovate[bot]', email: 'x@example.com' } }) },
  { id: 'renovate-author-email', label: 'noreply', input: change({ author: { name: 'Renovate', email: '29139614+renovate[bot]@users.noreply.github.com' } }) },
  { id: 'renovate-self-hosted-email', label: 'self-hosted', input: change({ author: { name: 'Renovate Bot', email: 'bot@renovateapp.com' } }) },
  { id: 'renovate-pr-author', label: 'login', input: change({ prAuthorLogin: 'renovate[bot]' }) },
  { id: 'renovate-branch', label: 'branch', input: change({ headBranch: 'renovate/typescript-5.x' }) },
  { id: 'github-actions-author-name', label: 'bot name', input: change({ author: { name: 'github-actions[bot]', email: 'x@example.com' } }) },
  { id: 'github-actions-author-email', label: 'noreply', input: change({ author: { name: 'GitHub Actions', email: '41898282+github-actions[bot]@users.noreply.github.com' } }) },
  { id: 'github-actions-pr-author', label: 'login', input: change({ prAuthorLogin: 'app/github-actions' }) },
];

describe('detectProvenance: one positive case per signature', () => {
  it('has a case for every built-in signature', () => {
    const covered = new Set(positives.map((p) => p.id));
    expect(builtinSignatures.map((s) => s.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(positives)('$id ($label)', ({ id, input }) => {
    const signature = builtinSignatures.find((s) => s.id === id);
    expect(signature).toBeDefined();
    const result = detectProvenance(input, builtinSignatures);
    const hit = result.evidence.find((e) => e.signature === id);
    expect(hit).toBeDefined();
    expect(hit?.strength).toBe(signature?.strength);
    expect(result.class).toBe(signature?.class);
    expect(result.strength).toBe(signature?.strength);
    // The git-ai row names the session's own tool; the generic ones fall back to the row's.
    if (id !== 'git-ai-note') expect(result.tool).toBe(signature?.tool);
    expect(hit?.matched.length).toBeGreaterThan(0);
  });
});

describe('detectProvenance: look-alikes stay human', () => {
  const negatives: { label: string; input: ProvenanceInput }[] = [
    { label: 'a person named Claude', input: change({ author: { name: 'Claude Dupont', email: 'claude@dupont.fr' }, committer: { name: 'Claude Dupont', email: 'claude@dupont.fr' } }) },
    { label: 'prose about Copilot', input: change({ subject: 'fix Copilot integration', body: 'The copilot/ folder was renamed.' }) },
    { label: 'prose "generated with care"', input: change({ subject: 'Docs generated with care', body: 'Generated with care by the docs team.\nGenerated with Claude Code in mind, not by it.' }) },
    { label: 'branch claudette/x', input: change({ headBranch: 'claudette/x' }) },
    { label: 'branch my-claude/x', input: change({ headBranch: 'feature/claude/x' }) },
    { label: 'painter co-author', input: change(trailer('Co-authored-by', 'Claude Monet <claude@monet.org>')) },
    { label: 'painter co-author in the body', input: change({ body: 'Paint.\n\nCo-authored-by: Claude Monet <claude@monet.org>' }) },
    { label: 'cursor.sh e-mail that is not the agent', input: change({ author: { name: 'Cursor Fan', email: 'dev@cursor.sh' } }) },
    { label: 'cursor.com e-mail that is not the agent', input: change({ author: { name: 'Jo', email: 'jo@cursor.com' } }) },
    { label: 'a person credited with Assisted-by', input: change(trailer('Assisted-by', 'Jane Doe <jane@example.org>')) },
    { label: 'a person co-author', input: change(trailer('Co-authored-by', 'Grace Hopper <grace@example.com>')) },
    { label: 'aider mentioned in a subject', input: change({ subject: 'Document the aider: prefix' }) },
    { label: 'Copilot login as a substring', input: change({ prAuthorLogin: 'copilot-fan' }) },
    { label: 'bare bot names as logins', input: change({ prAuthorLogin: 'claude' }) },
    { label: 'a git-ai note that attests no lines', input: change({ notes: [{ ref: 'refs/notes/ai', body: '---\n{"schema_version":"authorship/3.0.0","base_commit_sha":"x","prompts":{}}' }] }) },
    { label: 'an Agent Trace record by a human', input: change({ notes: [{ ref: 'refs/notes/agent-trace', body: '{"files":[{"conversations":[{"contributor":{"type":"human"},"ranges":[]}]}]}' }] }) },
    { label: 'a merge of human commits', input: change({ subject: 'Merge pull request #7 from acme/claude-ideas', headBranch: 'acme/claude-ideas', commits: [brought('1111111aaaa')] }) },
  ];

  it.each(negatives)('$label', ({ input }) => {
    expect(detectProvenance(input, builtinSignatures)).toEqual({ class: 'human', tool: null, strength: 'none', evidence: [] });
  });
});

describe('detectProvenance: merges', () => {
  it('finds a trailer on a commit the merge brought in', () => {
    const result = detectProvenance(
      change({
        subject: 'Merge pull request #12 from acme/parser',
        body: 'Faster parser',
        headBranch: 'acme/parser',
        commits: [brought('aaaaaaa1111'), brought('bbbbbbb2222', { body: 'Tune it\n\nCo-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>' })],
      }),
      builtinSignatures,
    );
    expect(result.class).toBe('ai-assisted');
    expect(result.tool).toBe('claude-code');
    expect(result.strength).toBe('weak');
    expect(result.evidence).toEqual([
      {
        signature: 'claude-code-coauthor',
        tool: 'claude-code',
        class: 'ai-assisted',
        where: 'commit:bbbbbbb/trailer',
        matched: 'Co-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>',
        strength: 'weak',
      },
    ]);
  });

  it('counts a merge of only bot commits as automation, even when a person merged it', () => {
    const bot = { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' };
    const result = detectProvenance(
      change({ headBranch: 'dependabot/npm_and_yarn/vite-5.4.0', commits: [brought('ccccccc3333', { author: bot })] }),
      builtinSignatures,
    );
    expect(result.class).toBe('automation');
    expect(result.tool).toBe('dependabot');
    expect(result.strength).toBe('strong');
  });

  it('keeps AI work a person added to a bot PR', () => {
    const bot = { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' };
    const result = detectProvenance(
      change({
        headBranch: 'dependabot/npm_and_yarn/vite-5.4.0',
        commits: [brought('ccccccc3333', { author: bot }), brought('ddddddd4444', { trailers: [{ key: 'Made-with', value: 'Cursor' }] })],
      }),
      builtinSignatures,
    );
    expect(result.class).toBe('ai-assisted');
    expect(result.tool).toBe('cursor');
    expect(result.evidence.map((e) => e.signature)).toEqual(expect.arrayContaining(['dependabot-author-name', 'dependabot-branch', 'cursor-made-with']));
  });

  it('reads trailers in the middle of a GitHub squash body', () => {
    const body = '* Add cache\n\nCo-authored-by: Amp <amp@ampcode.com>\n\n* Fix test\n\nCo-authored-by: Grace Hopper <grace@example.com>';
    const result = detectProvenance(change({ body }), builtinSignatures);
    expect(result.class).toBe('ai-assisted');
    expect(result.tool).toBe('amp');
  });
});

describe('detectProvenance: precedence', () => {
  it('a bot author wins over a self-declared trailer, and both are kept', () => {
    const result = detectProvenance(
      change({ author: { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' }, ...trailer('Co-Authored-By', 'Claude <noreply@anthropic.com>') }),
      builtinSignatures,
    );
    expect(result.class).toBe('automation');
    expect(result.tool).toBe('dependabot');
    expect(result.strength).toBe('strong');
    expect(result.evidence.map((e) => e.signature)).toEqual(['dependabot-author-name', 'dependabot-author-email', 'claude-code-coauthor']);
  });

  it('agent beats ai-assisted, and the tool comes from the strongest evidence', () => {
    const result = detectProvenance(
      change({ headBranch: 'copilot/fix-7', ...trailer('Co-Authored-By', 'Claude <noreply@anthropic.com>') }),
      builtinSignatures,
    );
    expect(result.class).toBe('agent');
    expect(result.tool).toBe('copilot');
    expect(result.strength).toBe('medium');
    expect(result.evidence[0]?.signature).toBe('copilot-agent-branch');
  });

  it('an agent bot author is an agent, strong', () => {
    const result = detectProvenance(
      change({ author: { name: 'claude[bot]', email: '209825114+claude[bot]@users.noreply.github.com' }, headBranch: 'claude/issue-3-20250101-0101' }),
      builtinSignatures,
    );
    expect(result).toMatchObject({ class: 'agent', tool: 'claude-code', strength: 'strong' });
    expect(result.evidence).toHaveLength(3);
  });

  it('a named tool beats the generic trailer at equal strength', () => {
    const result = detectProvenance(
      change({ trailers: [{ key: 'Assisted-by', value: 'Aider:gpt-4o' }, { key: 'Co-authored-by', value: 'opencode <noreply@opencode.ai>' }] }),
      builtinSignatures,
    );
    expect(result.tool).toBe('opencode');
  });

  it('reads the tool of a git-ai session from its note', () => {
    const result = detectProvenance(change({ notes: [{ ref: 'refs/notes/ai', body: gitAiNote('claude', 'claude-opus-4-5', '1-4,9') }] }), builtinSignatures);
    expect(result).toMatchObject({ class: 'ai-assisted', tool: 'claude-code', strength: 'weak' });
    expect(result.evidence).toEqual([
      expect.objectContaining({ signature: 'git-ai-note', where: 'note:refs/notes/ai', matched: 'claude/claude-opus-4-5: 5 lines in 1 files (session abcd1234abcd1234)' }),
    ]);
  });

  it('keeps a broken git-ai log as a bare git-ai claim without throwing', () => {
    const result = detectProvenance(change({ notes: [{ ref: 'refs/notes/ai', body: 'a.ts\n  zz 1-2\n---\n{"schema_version": "authorship/3.0.0", "prompts": {' }] }), builtinSignatures);
    expect(result).toMatchObject({ class: 'ai-assisted', tool: 'git-ai' });
  });

  it('prefers a named tool in a brought-in commit over a git-ai session of unknown tool', () => {
    const orphan = 'a.ts\n  59932ce 1\n---\n{"schema_version":"authorship/3.0.0","prompts":{}}';
    const result = detectProvenance(
      change({ notes: [{ ref: 'refs/notes/ai', body: orphan }], commits: [brought('eeeeeee5555', { body: 'x\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>' })] }),
      builtinSignatures,
    );
    expect(result).toMatchObject({ class: 'ai-assisted', tool: 'claude-code' });
    expect(result.evidence.map((e) => e.tool)).toEqual(['claude-code', 'git-ai']);
  });

  it('accepts bot e-mails without the numeric id, as older workflows write them', () => {
    const result = detectProvenance(change({ author: { name: 'Release', email: 'github-actions[bot]@users.noreply.github.com' } }), builtinSignatures);
    expect(result).toMatchObject({ class: 'automation', tool: 'github-actions', strength: 'strong' });
  });

  it('works with no signatures at all', () => {
    expect(detectProvenance(change(trailer('Co-Authored-By', 'Claude <noreply@anthropic.com>')), []).class).toBe('human');
  });
});
