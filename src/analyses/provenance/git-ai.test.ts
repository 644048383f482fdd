import { describe, expect, it } from 'vitest';
import { parseGitAiNote } from './git-ai.ts';

// The complete example of the Git AI Standard v3.0.0, section 1.2.5 (messages shortened).
const specExample = `src/main.rs
  abcd1234abcd1234 1-10,15-20
  efgh5678efgh5678 25,30-35
src/lib.rs
  abcd1234abcd1234 1-50
---
{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.0.23",
  "base_commit_sha": "7734793b756b3921c88db5375a8c156e9532447b",
  "prompts": {
    "abcd1234abcd1234": {
      "agent_id": { "tool": "cursor", "id": "6ef2299e-a67f-432b-aa80-3d2fb4d28999", "model": "claude-4.5-opus" },
      "human_author": "Developer <dev@example.com>",
      "messages": [{ "type": "user", "text": "Add error handling" }],
      "total_additions": 25, "total_deletions": 5, "accepted_lines": 20, "overriden_lines": 0
    },
    "efgh5678efgh5678": {
      "agent_id": { "tool": "claude", "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "model": "claude-3-sonnet" },
      "messages": [],
      "total_additions": 6, "total_deletions": 0, "accepted_lines": 6, "overriden_lines": 0
    }
  }
}`;

describe('parseGitAiNote', () => {
  it('reads sessions, tools, models and line counts from the spec example', () => {
    const note = parseGitAiNote(specExample, { addedLines: 100 });
    expect(note).not.toBeNull();
    expect(note?.schemaVersion).toBe('authorship/3.0.0');
    // `efgh5678efgh5678` is not hex; the spec example uses it anyway, so it counts via accepted_lines.
    expect(note?.sessions).toEqual([
      { hash: 'abcd1234abcd1234', tool: 'cursor', rawTool: 'cursor', model: 'claude-4.5-opus', sessionId: '6ef2299e-a67f-432b-aa80-3d2fb4d28999', humanAuthor: 'Developer <dev@example.com>', lines: 66, files: ['src/lib.rs', 'src/main.rs'] },
      { hash: 'efgh5678efgh5678', tool: 'claude-code', rawTool: 'claude', model: 'claude-3-sonnet', sessionId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', humanAuthor: null, lines: 6, files: [] },
    ]);
    expect(note?.aiLines).toBe(72);
    expect(note?.files).toEqual(['src/lib.rs', 'src/main.rs']);
    expect(note?.share).toBeCloseTo(0.72);
    expect(note?.evidence.map((e) => [e.tool, e.where, e.class, e.strength])).toEqual([
      ['cursor', 'note:refs/notes/ai', 'ai-assisted', 'weak'],
      ['claude-code', 'note:refs/notes/ai', 'ai-assisted', 'weak'],
    ]);
  });

  it('reads quoted paths, 7-character hashes and sessions without a prompt record', () => {
    const body = '"src/my file.ts"\n  abc1234 3-4\n  0123456789abcdef 7\n---\n{"schema_version":"authorship/3.0.0","prompts":{"abc1234":{"agent_id":{"tool":"Gemini CLI"}}}}';
    const note = parseGitAiNote(body, { addedLines: 0 });
    expect(note?.sessions.map((s) => [s.hash, s.tool, s.lines, s.files])).toEqual([
      ['abc1234', 'gemini', 2, ['src/my file.ts']],
      ['0123456789abcdef', 'git-ai', 1, ['src/my file.ts']],
    ]);
    expect(note?.share).toBeNull();
  });

  it('caps the share at 1 when the note claims more lines than were added', () => {
    expect(parseGitAiNote(specExample, { addedLines: 10 })?.share).toBe(1);
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['plain text', 'Reviewed by the release team.'],
    ['broken JSON', 'a.ts\n  abcd1234abcd1234 1-2\n---\n{"schema_version": "authorship/3.0.0", "prompts": {'],
    ['JSON that is not an object', '---\n[1,2,3]'],
    ['another schema', '---\n{"schema_version": "whogitit/2"}'],
    ['no schema version', '---\n{"prompts": {}}'],
    ['schema version of the wrong type', '---\n{"schema_version": 3}'],
  ];
  it.each(malformed)('returns null without throwing for a note that is %s', (_label, body) => {
    expect(parseGitAiNote(body)).toBeNull();
  });

  it('skips unreadable parts of a readable log', () => {
    const body = [
      'a.ts',
      '  abcd1234abcd1234 5-3,x,0', // a backwards range, junk and line 0 count nothing
      'orphan entry below a blank path is still under a.ts',
      '  not-a-hash 1-100',
      '---',
      JSON.stringify({ schema_version: 'authorship/3.0.0', prompts: { abcd1234abcd1234: { agent_id: 'cursor', accepted_lines: 'many' }, ffff: 42 } }),
    ].join('\n');
    const note = parseGitAiNote(body);
    expect(note?.sessions).toEqual([
      { hash: 'abcd1234abcd1234', tool: 'git-ai', rawTool: null, model: null, sessionId: null, humanAuthor: null, lines: 0, files: [] },
      { hash: 'ffff', tool: 'git-ai', rawTool: null, model: null, sessionId: null, humanAuthor: null, lines: 0, files: [] },
    ]);
    expect(note?.evidence).toEqual([]);
  });

  it('counts the lines of a session attested under a path line', () => {
    const body = 'a.ts\n  abcd1234abcd1234 2,9-10\n---\n{"schema_version":"authorship/3.0.0","prompts":{"abcd1234abcd1234":{"agent_id":{"tool":"codex","model":"gpt-5"}}}}';
    expect(parseGitAiNote(body)?.sessions[0]).toMatchObject({ tool: 'codex', lines: 3, files: ['a.ts'] });
  });

  it('accepts a metadata-only log and CRLF line ends', () => {
    const note = parseGitAiNote('a.ts\r\n  abcd1234abcd1234 1-3\r\n---\r\n{"schema_version":"authorship/3.0.0"}');
    expect(note?.aiLines).toBe(3);
    expect(parseGitAiNote('{"schema_version":"authorship/3.0.0","prompts":{}}')?.aiLines).toBe(0);
  });
});
