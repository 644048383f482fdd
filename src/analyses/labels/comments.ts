import type { Language } from '../features/file-kinds.ts';

interface CommentSyntax {
  line: string[];
  block: [string, string][];
}

const syntaxByLanguage: Record<Language, CommentSyntax> = {
  'c-like': { line: ['//'], block: [['/*', '*/']] },
  python: { line: ['#'], block: [['"""', '"""'], ["'''", "'''"]] },
  ruby: { line: ['#'], block: [['=begin', '=end']] },
  shell: { line: ['#'], block: [] },
  sql: { line: ['--'], block: [['/*', '*/'], ['{-', '-}']] },
  lua: { line: ['--'], block: [['--[[', ']]']] },
  html: { line: [], block: [['<!--', '-->']] },
};

/**
 * Which of a run of consecutive lines carry code: not blank, not a comment. Block comments are
 * followed within the run (a diff hunk); a run that starts inside a block comment whose opening
 * line is outside it is recognised by the usual ` * ` continuation prefix. Python docstrings count
 * as comments when they stand on their own lines. Lines of unknown languages only drop when blank.
 */
export function meaningfulLines(lines: readonly string[], language: Language | null): boolean[] {
  const out = new Array<boolean>(lines.length).fill(false);
  const syntax = language === null ? null : syntaxByLanguage[language];
  let closing: string | null = null;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (syntax === null) {
      out[i] = true;
      continue;
    }
    if (closing !== null) {
      const end = line.indexOf(closing);
      if (end === -1) continue;
      const rest = line.slice(end + closing.length).trim();
      closing = null;
      if (rest !== '' && !isCommentStart(rest, syntax)) out[i] = true;
      continue;
    }
    if (syntax.line.some((p) => line.startsWith(p))) continue;
    const block = syntax.block.find(([open]) => line.startsWith(open));
    if (block !== undefined) {
      const [open, close] = block;
      const end = line.indexOf(close, open.length);
      if (end === -1) {
        closing = close;
        continue;
      }
      const rest = line.slice(end + close.length).trim();
      if (rest !== '' && !isCommentStart(rest, syntax)) out[i] = true;
      continue;
    }
    // Continuation of a block comment opened above the hunk: ` * text` or a lone closing `*/`.
    if (language === 'c-like' && (line === '*' || line.startsWith('* ') || line.startsWith('*/') || line === '**/')) continue;
    out[i] = true;
  }
  return out;
}

function isCommentStart(text: string, syntax: CommentSyntax): boolean {
  return syntax.line.some((p) => text.startsWith(p)) || syntax.block.some(([open]) => text.startsWith(open));
}

/** A line with all whitespace removed: two lines equal under this differ only in whitespace. */
export function squashWhitespace(line: string): string {
  return line.replace(/\s+/g, '');
}
