import { z } from 'zod';
import type { ProvenanceEvidence } from '../../changes/change.ts';

/** One AI session of a git-ai authorship log, with the lines it wrote in this commit. */
export interface GitAiSession {
  /** The session hash keying the attestation lines and the prompt record. */
  hash: string;
  /** flowgate's tool slug for `agent_id.tool` (claude -> claude-code); `git-ai` when unknown. */
  tool: string;
  /** `agent_id.tool` as the note wrote it. */
  rawTool: string | null;
  model: string | null;
  sessionId: string | null;
  humanAuthor: string | null;
  /** AI-written lines attested for this session (accepted_lines when the session has no attestation). */
  lines: number;
  files: string[];
}

/** What a git-ai note says about its commit. */
export interface GitAiNote {
  schemaVersion: string;
  sessions: GitAiSession[];
  /** AI-written lines over all sessions. */
  aiLines: number;
  /** Files with at least one AI-written line. */
  files: string[];
  /** aiLines / addedLines (at most 1) when the caller gave the commit's added lines; else null. */
  share: number | null;
  /** One weak ai-assisted evidence per session that wrote lines. */
  evidence: ProvenanceEvidence[];
}

// Outside data, read leniently: every field may be missing or of the wrong type; what cannot be
// read is left out rather than failing the whole note. The spec misspells `overriden_lines`, so
// neither spelling is relied on.
const PromptRecord = z.looseObject({
  agent_id: z
    .looseObject({
      tool: z.string().optional().catch(undefined),
      id: z.string().optional().catch(undefined),
      model: z.string().optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  human_author: z.string().optional().catch(undefined),
  accepted_lines: z.number().int().nonnegative().optional().catch(undefined),
});
const Metadata = z.looseObject({
  schema_version: z.string().regex(/^authorship\/\d+\.\d+\.\d+$/),
  prompts: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

/** Tool names git-ai writes in `agent_id.tool`, mapped to flowgate's slugs. */
const toolSlugs: Record<string, string> = {
  claude: 'claude-code',
  'claude-code': 'claude-code',
  copilot: 'copilot',
  'github-copilot': 'copilot',
  cursor: 'cursor',
  codex: 'codex',
  gemini: 'gemini',
  'gemini-cli': 'gemini',
  amp: 'amp',
  opencode: 'opencode',
  droid: 'factory',
  factory: 'factory',
  aider: 'aider',
  jules: 'jules',
  devin: 'devin',
  'amazon-q': 'amazon-q',
  openhands: 'openhands',
};

function toolSlug(raw: string | null): string {
  if (raw === null) return 'git-ai';
  const slug = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug === '') return 'git-ai';
  return toolSlugs[slug] ?? slug;
}

/** Counts the lines of a range spec such as `1-4,9-10,12`; malformed parts count nothing. */
function countRangeLines(spec: string): number {
  let count = 0;
  for (const part of spec.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (match === null) continue;
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (start < 1 || end < start) continue;
    count += end - start + 1;
  }
  return count;
}

/** Lines per session hash, and the files each session touched, from the attestation section. */
function readAttestations(section: string): Map<string, { lines: number; files: Set<string> }> {
  const bySession = new Map<string, { lines: number; files: Set<string> }>();
  let file: string | null = null;
  for (const line of section.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const path = line.trimEnd();
      file = path.startsWith('"') && path.endsWith('"') && path.length >= 2 ? path.slice(1, -1) : path;
      continue;
    }
    // Entry: two-space indent, a hex session hash (16 chars; 7 accepted from older versions), ranges.
    const entry = /^\s+([0-9a-f]{7,64})\s+(\S+)\s*$/i.exec(line);
    if (entry === null || file === null) continue;
    const hash = (entry[1] ?? '').toLowerCase();
    const current = bySession.get(hash) ?? { lines: 0, files: new Set<string>() };
    const lines = countRangeLines(entry[2] ?? '');
    current.lines += lines;
    if (lines > 0) current.files.add(file);
    bySession.set(hash, current);
  }
  return bySession;
}

/** Splits a log into attestation and metadata at the first line that is exactly `---`. */
function splitLog(body: string): { attestations: string; metadata: string } {
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const divider = lines.findIndex((line) => line === '---');
  // No divider: a metadata-only log (what an empty commit may carry).
  if (divider < 0) return { attestations: '', metadata: lines.join('\n') };
  return { attestations: lines.slice(0, divider).join('\n'), metadata: lines.slice(divider + 1).join('\n') };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads a git-ai authorship log (Git AI Standard, `authorship/3.x`, under refs/notes/ai): per AI
 * session its tool, model and the lines it wrote. Returns null for anything that is not a readable
 * git-ai log (other notes, broken JSON, no schema version); never throws.
 */
export function parseGitAiNote(
  body: string,
  options: { where?: string | undefined; addedLines?: number | null | undefined } = {},
): GitAiNote | null {
  const { attestations, metadata } = splitLog(body);
  const parsed = Metadata.safeParse(parseJson(metadata));
  // Not a git-ai log, or its metadata is unreadable: ignored, as a note is outside data.
  if (!parsed.success) return null;
  const attested = readAttestations(attestations);
  const prompts = parsed.data.prompts ?? {};
  const sessions: GitAiSession[] = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(prompts)) {
    const hash = key.toLowerCase();
    seen.add(hash);
    const record = PromptRecord.safeParse(value);
    const prompt = record.success ? record.data : undefined;
    const attestation = attested.get(hash);
    const rawTool = prompt?.agent_id?.tool ?? null;
    sessions.push({
      hash,
      tool: toolSlug(rawTool),
      rawTool,
      model: prompt?.agent_id?.model ?? null,
      sessionId: prompt?.agent_id?.id ?? null,
      humanAuthor: prompt?.human_author ?? null,
      lines: attestation?.lines ?? prompt?.accepted_lines ?? 0,
      files: [...(attestation?.files ?? [])].sort(),
    });
  }
  // Attested lines whose session has no prompt record still count as AI-written, tool unknown.
  for (const [hash, attestation] of attested) {
    if (seen.has(hash)) continue;
    sessions.push({ hash, tool: 'git-ai', rawTool: null, model: null, sessionId: null, humanAuthor: null, lines: attestation.lines, files: [...attestation.files].sort() });
  }
  const aiLines = sessions.reduce((sum, session) => sum + session.lines, 0);
  const files = [...new Set(sessions.flatMap((session) => session.files))].sort();
  const addedLines = options.addedLines ?? null;
  const share = addedLines !== null && addedLines > 0 ? Math.min(1, aiLines / addedLines) : null;
  const where = options.where ?? 'note:refs/notes/ai';
  const evidence: ProvenanceEvidence[] = sessions
    .filter((session) => session.lines > 0)
    .map((session) => ({
      signature: 'git-ai-note',
      tool: session.tool,
      class: 'ai-assisted',
      where,
      matched: `${session.rawTool ?? 'unknown tool'}${session.model === null ? '' : `/${session.model}`}: ${session.lines} lines in ${session.files.length} files (session ${session.hash})`,
      strength: 'weak',
    }));
  return { schemaVersion: parsed.data.schema_version, sessions, aiLines, files, share, evidence };
}
