import { execFileSync, spawn } from 'node:child_process';
import { FlowgateError } from '../../core/errors.ts';

/** Environment for every git call: no pager, no prompts, no lazy fetches from a promisor remote. */
export const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  GIT_NO_LAZY_FETCH: '1',
  LC_ALL: 'C',
};

/** Options of a short git command. */
export interface GitOptions {
  /** Resolve to '' instead of throwing when git fails. */
  allowFailure?: boolean;
  /** Text for git's standard input (hash-object, mktree, cat-file --batch). */
  input?: string;
  /** Extra environment (author and committer for commit-tree). */
  env?: Record<string, string>;
}

/** Runs a short git command and returns its standard output; failures become FlowgateErrors by their cause. */
export function git(repoPath: string, args: string[], options: GitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: repoPath,
      env: { ...gitEnv, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new FlowgateError('GIT_FAILED', `Cannot run git: ${error.message}. Install git.`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      if (options.allowFailure === true) return resolve('');
      const stderr = Buffer.concat(err).toString('utf8');
      reject(gitError(repoPath, args, Object.assign(new Error(stderr || `exit ${String(code)}`), { stderr })));
    });
    if (options.input === undefined) return;
    // A git that exits before reading all its input says why itself; the broken pipe adds nothing.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}

/** The blocking form of `git`, for the few reads that happen before anything else can run (the gate, config). */
export function gitSync(repoPath: string, args: string[], options: GitOptions = {}): string {
  try {
    return execFileSync('git', args, {
      cwd: repoPath,
      env: { ...gitEnv, ...options.env },
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  } catch (error) {
    if (options.allowFailure === true) return '';
    throw gitError(repoPath, args, error);
  }
}

/** Runs git and resolves to true when it exits 0, false otherwise (for yes/no questions such as --is-ancestor). */
export async function gitSucceeds(repoPath: string, args: string[]): Promise<boolean> {
  try {
    await git(repoPath, args);
    return true;
  } catch {
    return false;
  }
}

/** Throws NOT_A_REPOSITORY unless the path is inside a git work tree or a bare repository. */
export function assertRepository(repoPath: string): void {
  try {
    gitSync(repoPath, ['rev-parse', '--git-dir']);
  } catch (error) {
    throw new FlowgateError('NOT_A_REPOSITORY', `${repoPath} is not a git repository. Pass the path of a git work tree or bare repository.`, {
      cause: error,
    });
  }
}

/** Resolves a revision to a commit sha, or throws REVISION_NOT_FOUND naming it. */
export function resolveCommit(repoPath: string, rev: string): string {
  try {
    return gitSync(repoPath, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).trim();
  } catch (error) {
    throw new FlowgateError('REVISION_NOT_FOUND', `Revision "${rev}" does not resolve: "${rev}" is not a commit in ${repoPath}. Pass a branch, tag or sha that exists (fetch it first if it is remote).`, {
      cause: error,
      details: { repoPath, rev },
    });
  }
}

/** A file's text at a revision (never the work tree), or null when it does not exist there. */
export function readFileAt(repoPath: string, rev: string, path: string): string | null {
  try {
    return execFileSync('git', ['show', `${rev}:${path}`], {
      cwd: repoPath,
      env: gitEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return null;
  }
}

/** A file's text at a revision, read without blocking (readFileAt's asynchronous twin); null when it does not exist there. */
export async function readFileAtAsync(repoPath: string, rev: string, path: string): Promise<string | null> {
  try {
    return await git(repoPath, ['show', `${rev}:${path}`]);
  } catch {
    return null;
  }
}

/**
 * Resolves revisions to commit shas with one git process (a check resolves several before its
 * diffs start); any that does not resolve is named by resolveCommit's error, and a path that is not
 * a repository by assertRepository's.
 */
export function resolveCommits(repoPath: string, revs: readonly string[]): string[] {
  const out = gitSync(repoPath, ['rev-parse', ...revs.map((rev) => `${rev}^{commit}`)], { allowFailure: true }).split('\n').filter((line) => line !== '');
  // rev-parse passes an argument that looks like an option through unchanged: only shas count.
  if (out.length === revs.length && out.every((line) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(line))) return out;
  assertRepository(repoPath);
  return revs.map((rev) => resolveCommit(repoPath, rev));
}

const missingObjectPattern = /missing blob|could not read|unable to read|bad object|promisor|did not receive expected object|fatal: missing/i;

function gitError(repoPath: string, args: string[], error: unknown): FlowgateError {
  const raw = (error as { stderr?: unknown }).stderr;
  const stderr = (typeof raw === 'string' && raw !== '' ? raw : (error as Error).message).trim();
  if (/not a git repository/i.test(stderr)) {
    return new FlowgateError('NOT_A_REPOSITORY', `${repoPath} is not a git repository. Pass the path of a git work tree or bare repository.`, {
      cause: error,
    });
  }
  if (missingObjectPattern.test(stderr)) {
    return new FlowgateError('GIT_OBJECT_MISSING', `git ${args[0] ?? ''} in ${repoPath} hit a missing object: ${firstLine(stderr)}`, {
      cause: error,
    });
  }
  if (/unknown revision|bad revision|ambiguous argument|invalid object name/i.test(stderr)) {
    return new FlowgateError('REVISION_NOT_FOUND', `git cannot resolve a revision in ${repoPath}: ${firstLine(stderr)}. Check the branch or sha.`, {
      cause: error,
    });
  }
  return new FlowgateError('GIT_FAILED', `git ${args.slice(0, 2).join(' ')} failed in ${repoPath}: ${firstLine(stderr)}`, { cause: error });
}

/** The line of git's stderr that says what failed: the fatal/error line before any warning. */
function firstLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? text;
}

/** Streams a git command's standard output in chunks; a non-zero exit throws after the chunks already read. */
export async function* streamGit(repoPath: string, args: string[]): AsyncGenerator<Buffer> {
  const child = spawn('git', args, { cwd: repoPath, env: gitEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const code = await exited;
  if (code !== 0 && code !== null) throw gitError(repoPath, args, Object.assign(new Error(stderr), { stderr }));
}

/**
 * Streams a git command's standard output as NUL-separated tokens (raw bytes, for paths that are
 * not UTF-8).
 */
export async function* streamGitTokens(repoPath: string, args: string[]): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of streamGit(repoPath, args)) {
    const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (;;) {
      const end = data.indexOf(0, start);
      if (end === -1) break;
      yield data.subarray(start, end);
      start = end + 1;
    }
    pending = Buffer.from(data.subarray(start));
  }
  if (pending.length > 0) yield pending;
}

/** Streams a git command's output line by line as latin1 text: every byte one char, lossless for paths decoded later. */
export async function* streamGitLines(repoPath: string, args: string[]): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of streamGit(repoPath, args)) {
    const lines = (pending + chunk.toString('latin1')).split('\n');
    pending = lines.pop() ?? '';
    yield* lines;
  }
  if (pending !== '') yield pending;
}
