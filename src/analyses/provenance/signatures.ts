import { z } from 'zod';

/** Where in a change a signature looks. */
export const SignatureWhere = z.enum([
  'author-email',
  'author-name',
  'committer',
  'trailer',
  'body',
  'subject',
  'branch',
  'pr-body',
  'pr-author',
  'note',
]);
export type SignatureWhere = z.infer<typeof SignatureWhere>;

/** Checks a pattern compiles, so a bad user regex is caught when the config is read, not mid-analysis. */
function regexError(pattern: string): string | null {
  try {
    new RegExp(pattern, 'im');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * One provenance signature: a case-insensitive pattern looked for in one place of a change.
 * `human` is not a class a signature can give: human is what remains when nothing matches.
 * Regex patterns are compiled with flags `im` (case-insensitive; `^`/`$` anchor lines); a
 * `trailer` pattern is tested against each trailer written as `Key: value`.
 */
export const Signature = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes')
      .describe('Stable id, named in evidence and in `provenance.disable`'),
    tool: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'use a lower-case slug such as claude-code')
      .describe('Tool slug, e.g. claude-code, copilot, dependabot'),
    class: z.enum(['ai-assisted', 'agent', 'automation']).describe('What a match says wrote the change'),
    strength: z.enum(['strong', 'medium', 'weak']).describe('strong: platform-verified account; medium: branch or PR-body marker; weak: self-declared'),
    where: SignatureWhere.describe('Which part of the change the pattern is tested against'),
    pattern: z.string().min(1).describe('Case-insensitive regular expression (or literal text when `literal` is true)'),
    literal: z.boolean().default(false).describe('Match `pattern` as plain text instead of a regular expression'),
    description: z.string().min(1).describe('What the signature recognises, for people reading evidence'),
  })
  .superRefine((signature, ctx) => {
    if (signature.literal) return;
    const problem = regexError(signature.pattern);
    if (problem !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `signature "${signature.id}": pattern is not a valid regular expression (${problem}); fix the pattern or set literal: true`,
      });
    }
  });
export type Signature = z.infer<typeof Signature>;

// GitHub App accounts end in `[bot]`, a suffix users cannot register, and their commit e-mails
// are `<app user id>+<name>[bot]@users.noreply.github.com`.
// Logins come as `name[bot]` from the REST API and `app/name` from the gh CLI; the bare name can be
// a person's account, so it is not accepted.
const noreply = (account: string): string => `\\d+\\+${account}@users\\.noreply\\.github\\.com`;
const botName = (name: string): string => `^${name}\\[bot\\]$`;
// Older workflows and apps write the address without the numeric id.
const botEmail = (name: string): string => `^(?:\\d+\\+)?${name}\\[bot\\]@users\\.noreply\\.github\\.com$`;
const botLogin = (name: string): string => `^(?:app/${name}|${name}\\[bot\\])$`;
const coAuthor = (rest: string): string => `^Co-authored-by:\\s*(?:${rest})`;
/** A co-author trailer naming a GitHub App by its name or its noreply address. */
const botCoAuthor = (name: string): string => coAuthor(`${name}\\[bot\\]|[^<\\n]*<${noreply(`${name}\\[bot\\]`)}>`);

/**
 * The built-in table, in precedence order: when two signatures of the same class and strength
 * match, the earlier one names the tool. Specific tools come before the generic trailers.
 * Sources: REFERENCE.md section 1.
 */
const table: z.input<typeof Signature>[] = [
  // --- Claude ---
  {
    id: 'claude-code-coauthor',
    tool: 'claude-code',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('Claude(?:\\s+[^<>\\n]*?)?\\s*<noreply@anthropic\\.com>\\s*$'),
    description: 'Claude Code co-author trailer, with or without the model name (Claude Opus 4.5 <noreply@anthropic.com>)',
  },
  {
    id: 'claude-code-generated-body',
    tool: 'claude-code',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'body',
    pattern: 'Generated with \\[Claude Code\\]\\(https://claude\\.(?:ai/code|com/claude-code)\\)',
    description: 'Claude Code footer in the commit message: Generated with [Claude Code](https://claude.ai/code or https://claude.com/claude-code)',
  },
  {
    id: 'claude-code-generated-pr-body',
    tool: 'claude-code',
    class: 'ai-assisted',
    strength: 'medium',
    where: 'pr-body',
    pattern: 'Generated with \\[Claude Code\\]\\(https://claude\\.(?:ai/code|com/claude-code)\\)',
    description: 'Claude Code footer in the pull request description',
  },
  {
    id: 'claude-code-session-trailer',
    tool: 'claude-code',
    class: 'agent',
    strength: 'weak',
    where: 'trailer',
    pattern: '^Claude-Session:\\s*https://claude\\.ai/code/session_[A-Za-z0-9_-]+',
    description: 'Claude Code on the web (cloud session) trailer: Claude-Session: https://claude.ai/code/session_<id>',
  },
  {
    id: 'claude-branch',
    tool: 'claude-code',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^claude/[^/\\s]+',
    description: 'Branch claude/<slug> (Claude Code web sessions) or claude/issue-<n>-<date> (Claude GitHub app)',
  },
  {
    id: 'claude-bot-author-name',
    tool: 'claude-code',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('claude'),
    description: 'Commit authored by the Claude GitHub app account claude[bot]',
  },
  {
    id: 'claude-bot-author-email',
    tool: 'claude-code',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('claude'),
    description: 'Commit e-mail of the Claude GitHub app: <id>+claude[bot]@users.noreply.github.com',
  },
  {
    id: 'claude-bot-pr-author',
    tool: 'claude-code',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('claude'),
    description: 'Pull request opened by the Claude GitHub app',
  },
  {
    id: 'claude-bot-coauthor',
    tool: 'claude-code',
    class: 'agent',
    strength: 'weak',
    where: 'trailer',
    pattern: botCoAuthor('claude'),
    description: 'Co-author trailer naming claude[bot] (squash merge of its commits)',
  },

  // --- GitHub Copilot ---
  {
    id: 'copilot-agent-author-email',
    tool: 'copilot',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: '^198982749\\+Copilot@users\\.noreply\\.github\\.com$',
    description: 'Commit authored by the Copilot coding agent (198982749+Copilot@users.noreply.github.com)',
  },
  {
    id: 'copilot-agent-author-name',
    tool: 'copilot',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('copilot-swe-agent'),
    description: 'Commit authored by copilot-swe-agent[bot]',
  },
  {
    id: 'copilot-agent-pr-author',
    tool: 'copilot',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: `^Copilot$|${botLogin('copilot-swe-agent')}`,
    description: 'Pull request opened by the Copilot coding agent (login Copilot or copilot-swe-agent[bot])',
  },
  {
    id: 'copilot-agent-branch',
    tool: 'copilot',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^copilot/[^/\\s]+',
    description: 'Copilot coding agent branch copilot/<slug>',
  },
  {
    id: 'copilot-agent-pr-body',
    tool: 'copilot',
    class: 'agent',
    strength: 'medium',
    where: 'pr-body',
    pattern: '<!-- START COPILOT CODING AGENT SUFFIX -->',
    literal: true,
    description: 'Copilot coding agent marker in the pull request description',
  },
  {
    id: 'copilot-agent-body',
    tool: 'copilot',
    class: 'agent',
    strength: 'weak',
    where: 'body',
    pattern: '<!-- START COPILOT CODING AGENT SUFFIX -->',
    literal: true,
    description: 'Copilot coding agent marker carried into a squash commit message',
  },
  {
    id: 'copilot-agent-coauthor',
    tool: 'copilot',
    class: 'agent',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('[^<\\n]*<198982749\\+Copilot@users\\.noreply\\.github\\.com>'),
    description: 'Co-author trailer naming the Copilot coding agent (squash merge of its PR)',
  },
  {
    id: 'copilot-coauthor',
    tool: 'copilot',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('[^<\\n]*<223556219\\+Copilot@users\\.noreply\\.github\\.com>'),
    description: 'Copilot in the IDE or CLI: Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>',
  },
  {
    id: 'copilot-coauthor-legacy',
    tool: 'copilot',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('[^<\\n]*<copilot@github\\.com>'),
    description: 'Older Copilot co-author trailer: <copilot@github.com>',
  },
  {
    id: 'copilot-suggestion-coauthor',
    tool: 'copilot',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('[^<\\n]*<175728472\\+Copilot@users\\.noreply\\.github\\.com>'),
    description: 'Copilot review suggestion accepted (175728472+Copilot): assistance, not authorship',
  },

  // --- OpenAI Codex ---
  {
    id: 'codex-coauthor',
    tool: 'codex',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('[^<\\n]*<noreply@openai\\.com>'),
    description: 'Codex CLI co-author trailer: Co-authored-by: Codex <noreply@openai.com>',
  },
  {
    id: 'codex-task-pr-body',
    tool: 'codex',
    class: 'agent',
    strength: 'medium',
    where: 'pr-body',
    pattern: 'chatgpt\\.com/codex/tasks/task_[A-Za-z0-9_]+',
    description: 'Codex cloud task link in the pull request description',
  },
  {
    id: 'codex-task-body',
    tool: 'codex',
    class: 'agent',
    strength: 'weak',
    where: 'body',
    pattern: 'chatgpt\\.com/codex/tasks/task_[A-Za-z0-9_]+',
    description: 'Codex cloud task link carried into the commit message',
  },
  {
    id: 'codex-branch',
    tool: 'codex',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^codex/[^/\\s]+',
    description: 'Codex cloud task branch codex/<slug>',
  },
  {
    id: 'codex-author',
    tool: 'codex',
    class: 'agent',
    strength: 'weak',
    where: 'author-email',
    pattern: '^codex@openai\\.com$',
    description: 'Commit authored by Codex <codex@openai.com>',
  },

  // --- Cursor ---
  {
    id: 'cursor-agent-author',
    tool: 'cursor',
    class: 'agent',
    strength: 'weak',
    where: 'author-email',
    pattern: '^cursoragent@cursor\\.com$',
    description: 'Commit authored by the Cursor background agent (Cursor Agent <cursoragent@cursor.com>)',
  },
  {
    id: 'cursor-coauthor',
    tool: 'cursor',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('Cursor(?:\\s+Agent)?\\s*<cursoragent@cursor\\.com>'),
    description: 'Cursor co-author trailer: Cursor Agent <cursoragent@cursor.com> or Cursor <cursoragent@cursor.com>',
  },
  {
    id: 'cursor-made-with',
    tool: 'cursor',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: '^Made-with:\\s*Cursor\\b',
    description: 'Cursor trailer Made-with: Cursor',
  },
  {
    id: 'cursor-branch',
    tool: 'cursor',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^cursor/[^/\\s]+',
    description: 'Cursor background agent branch cursor/<slug>',
  },
  {
    id: 'cursor-bot-author-name',
    tool: 'cursor',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('cursor'),
    description: 'Commit authored by cursor[bot] (Bugbot fixes)',
  },
  {
    id: 'cursor-bot-coauthor',
    tool: 'cursor',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: botCoAuthor('cursor'),
    description: 'Co-author trailer naming cursor[bot] (review suggestion applied)',
  },

  // --- Aider ---
  {
    id: 'aider-author-name',
    tool: 'aider',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'author-name',
    pattern: '\\s\\(aider\\)$',
    description: 'Aider marks the commits it makes with an author name ending in " (aider)"',
  },
  {
    id: 'aider-coauthor',
    tool: 'aider',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('aider\\b[^<\\n]*<aider@aider\\.chat>'),
    description: 'Aider co-author trailer: Co-authored-by: aider (<model>) <aider@aider.chat>',
  },
  {
    id: 'aider-coauthor-legacy',
    tool: 'aider',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('aider\\b[^<\\n]*<noreply@aider\\.dev>'),
    description: 'Older aider co-author trailer: <noreply@aider.dev>',
  },
  {
    id: 'aider-subject',
    tool: 'aider',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'subject',
    pattern: '^aider: ',
    description: 'Aider subject prefix "aider: "',
  },

  // --- Devin ---
  {
    id: 'devin-bot-author-name',
    tool: 'devin',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('devin-ai-integration'),
    description: 'Commit authored by devin-ai-integration[bot]',
  },
  {
    id: 'devin-bot-author-email',
    tool: 'devin',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('devin-ai-integration'),
    description: 'Devin commit e-mail 158243242+devin-ai-integration[bot]@users.noreply.github.com',
  },
  {
    id: 'devin-pr-author',
    tool: 'devin',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('devin-ai-integration'),
    description: 'Pull request opened by devin-ai-integration[bot]',
  },
  {
    id: 'devin-branch',
    tool: 'devin',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^devin/\\d{6,}-\\S+',
    description: 'Devin branch devin/<timestamp>-<slug>',
  },
  {
    id: 'devin-session-pr-body',
    tool: 'devin',
    class: 'agent',
    strength: 'medium',
    where: 'pr-body',
    pattern: 'app\\.devin\\.ai/sessions/[0-9a-z]+',
    description: 'Devin session link in the pull request description',
  },
  {
    id: 'devin-session-body',
    tool: 'devin',
    class: 'agent',
    strength: 'weak',
    where: 'body',
    pattern: 'app\\.devin\\.ai/sessions/[0-9a-z]+',
    description: 'Devin session link carried into the commit message',
  },
  {
    id: 'devin-coauthor',
    tool: 'devin',
    class: 'agent',
    strength: 'weak',
    where: 'trailer',
    pattern: botCoAuthor('devin-ai-integration'),
    description: 'Co-author trailer naming devin-ai-integration[bot] (squash merge of its commits)',
  },

  // --- Google Jules, Gemini ---
  {
    id: 'jules-bot-author-name',
    tool: 'jules',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('google-labs-jules'),
    description: 'Commit authored by google-labs-jules[bot]',
  },
  {
    id: 'jules-bot-author-email',
    tool: 'jules',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('google-labs-jules'),
    description: 'Commit e-mail of google-labs-jules[bot]',
  },
  {
    id: 'jules-pr-author',
    tool: 'jules',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('google-labs-jules'),
    description: 'Pull request opened by google-labs-jules[bot]',
  },
  {
    id: 'gemini-code-assist-coauthor',
    tool: 'gemini',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: botCoAuthor('gemini-code-assist'),
    description: 'Co-author trailer naming gemini-code-assist[bot] (review suggestion applied: assistance)',
  },

  // --- Amazon Q ---
  {
    id: 'amazon-q-bot-author-name',
    tool: 'amazon-q',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('amazon-q-developer'),
    description: 'Commit authored by amazon-q-developer[bot]',
  },
  {
    id: 'amazon-q-bot-author-email',
    tool: 'amazon-q',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('amazon-q-developer'),
    description: 'Commit e-mail of amazon-q-developer[bot]',
  },
  {
    id: 'amazon-q-pr-author',
    tool: 'amazon-q',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('amazon-q-developer'),
    description: 'Pull request opened by amazon-q-developer[bot]',
  },

  // --- OpenHands ---
  {
    id: 'openhands-coauthor',
    tool: 'openhands',
    class: 'agent',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('openhands\\b[^<\\n]*<openhands@all-hands\\.dev>'),
    description: 'OpenHands co-author trailer: Co-authored-by: openhands <openhands@all-hands.dev>',
  },
  {
    id: 'openhands-branch',
    tool: 'openhands',
    class: 'agent',
    strength: 'medium',
    where: 'branch',
    pattern: '^openhands-fix-issue-\\d+',
    description: 'OpenHands resolver branch openhands-fix-issue-<n>',
  },

  // --- Factory ---
  {
    id: 'factory-bot-author-name',
    tool: 'factory',
    class: 'agent',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('factory-droid'),
    description: 'Commit authored by factory-droid[bot]',
  },
  {
    id: 'factory-bot-author-email',
    tool: 'factory',
    class: 'agent',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('factory-droid'),
    description: 'Commit e-mail of factory-droid[bot]',
  },
  {
    id: 'factory-pr-author',
    tool: 'factory',
    class: 'agent',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('factory-droid'),
    description: 'Pull request opened by factory-droid[bot]',
  },

  // --- OpenCode, Amp ---
  {
    id: 'opencode-coauthor',
    tool: 'opencode',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('opencode\\b[^<\\n]*<noreply@opencode\\.ai>'),
    description: 'OpenCode co-author trailer: opencode <noreply@opencode.ai>',
  },
  {
    id: 'amp-coauthor',
    tool: 'amp',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: coAuthor('Amp\\b[^<\\n]*<amp@ampcode\\.com>'),
    description: 'Amp co-author trailer: Amp <amp@ampcode.com>',
  },
  {
    id: 'amp-thread-trailer',
    tool: 'amp',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: '^Amp-Thread(?:-ID)?:\\s*\\S+',
    description: 'Amp thread trailer Amp-Thread-ID: <thread url or id>',
  },

  // --- Notes and trace records ---
  {
    id: 'git-ai-note',
    tool: 'git-ai',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'note',
    pattern: '"schema_version"\\s*:\\s*"authorship/3\\.\\d+\\.\\d+"',
    description: 'git-ai authorship log (refs/notes/ai, schema authorship/3.x); the detector reads its sessions for the tool',
  },
  {
    id: 'agent-trace-record',
    tool: 'agent-trace',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'note',
    pattern: '"contributor"\\s*:\\s*\\{[^{}]*"type"\\s*:\\s*"(?:ai|mixed)"',
    description: 'Agent Trace record (e.g. .agent-trace/traces.jsonl) with a contributor of type ai or mixed',
  },

  // --- Generic trailers (after the specific tools, so a named tool wins the tie) ---
  {
    id: 'assisted-by-trailer',
    tool: 'unspecified',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    // A person credited this way carries an e-mail; the AI form is `AGENT:MODEL [tools]`.
    pattern: '^Assisted-by:\\s*[^<>@\\s][^<>@\\n]*$',
    description: 'Generic Assisted-by: AGENT:MODEL [tools] trailer (Linux kernel, Fedora); values with an e-mail are people',
  },
  {
    id: 'generated-by-trailer',
    tool: 'unspecified',
    class: 'ai-assisted',
    strength: 'weak',
    where: 'trailer',
    pattern: '^Generated-by:\\s*[^<>@\\s][^<>@\\n]*$',
    description: 'Generic Generated-by: <tool> trailer (Apache, OpenInfra policies)',
  },

  // --- Automation ---
  {
    id: 'dependabot-author-name',
    tool: 'dependabot',
    class: 'automation',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('dependabot(?:-preview)?'),
    description: 'Commit authored by dependabot[bot]',
  },
  {
    id: 'dependabot-author-email',
    tool: 'dependabot',
    class: 'automation',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('dependabot(?:-preview)?'),
    description: 'Commit e-mail 49699333+dependabot[bot]@users.noreply.github.com',
  },
  {
    id: 'dependabot-pr-author',
    tool: 'dependabot',
    class: 'automation',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('dependabot(?:-preview)?'),
    description: 'Pull request opened by dependabot[bot]',
  },
  {
    id: 'dependabot-branch',
    tool: 'dependabot',
    class: 'automation',
    strength: 'medium',
    where: 'branch',
    pattern: '^dependabot/',
    description: 'Dependabot branch dependabot/<ecosystem>/<package>',
  },
  {
    id: 'renovate-author-name',
    tool: 'renovate',
    class: 'automation',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('renovate'),
    description: 'Commit authored by renovate[bot]',
  },
  {
    id: 'renovate-author-email',
    tool: 'renovate',
    class: 'automation',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('renovate'),
    description: 'Commit e-mail 29139614+renovate[bot]@users.noreply.github.com',
  },
  {
    id: 'renovate-self-hosted-email',
    tool: 'renovate',
    class: 'automation',
    strength: 'weak',
    where: 'author-email',
    pattern: '^bot@renovateapp\\.com$',
    description: 'Self-hosted Renovate default author e-mail bot@renovateapp.com',
  },
  {
    id: 'renovate-pr-author',
    tool: 'renovate',
    class: 'automation',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('renovate'),
    description: 'Pull request opened by renovate[bot]',
  },
  {
    id: 'renovate-branch',
    tool: 'renovate',
    class: 'automation',
    strength: 'medium',
    where: 'branch',
    pattern: '^renovate/',
    description: 'Renovate branch renovate/<package>',
  },
  {
    id: 'github-actions-author-name',
    tool: 'github-actions',
    class: 'automation',
    strength: 'strong',
    where: 'author-name',
    pattern: botName('github-actions'),
    description: 'Commit authored by github-actions[bot]',
  },
  {
    id: 'github-actions-author-email',
    tool: 'github-actions',
    class: 'automation',
    strength: 'strong',
    where: 'author-email',
    pattern: botEmail('github-actions'),
    description: 'Commit e-mail 41898282+github-actions[bot]@users.noreply.github.com',
  },
  {
    id: 'github-actions-pr-author',
    tool: 'github-actions',
    class: 'automation',
    strength: 'strong',
    where: 'pr-author',
    pattern: botLogin('github-actions'),
    description: 'Pull request opened by github-actions[bot]',
  },
];

/** The built-in signatures (REFERENCE.md section 1), validated by the same schema as user ones. */
export const builtinSignatures: readonly Signature[] = Object.freeze(z.array(Signature).parse(table));
