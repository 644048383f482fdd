import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { FlowgateError } from '../../core/errors.ts';

const execFileAsync = promisify(execFile);

/** Environment for every git call: no pager, no prompts, no lazy fetches from a promisor remote. */
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  GIT_NO_LAZY_FETCH: '1',
  LC_ALL: 'C',
};

/** Runs a short git command and returns its standard output. */
export async function git(repoPath: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, { cwd: repoPath, env: gitEnv, maxBuffer: 1024 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if (options.allowFailure === true) return '';
    throw gitError(repoPath, args, error);
  }
}

/** Runs git and resolves to true when it exits 0, false otherwise (for yes/no questions such as --is-ancestor). */
export async function gitSucceeds(repoPath: string, args: string[]): Promise<boolean> {
  try {
    await execFileAsync('git', args, { cwd: repoPath, env: gitEnv });
    return true;
  } catch {
    return false;
  }
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

/**
 * Streams a git command's standard output as NUL-separated tokens (raw bytes, for paths that are
 * not UTF-8). The stream ends when git exits; a non-zero exit throws after the tokens already read.
 */
export async function* streamGitTokens(repoPath: string, args: string[]): AsyncGenerator<Buffer> {
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
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (;;) {
        const end = data.indexOf(0, start);
        if (end === -1) break;
        yield data.subarray(start, end);
        start = end + 1;
      }
      data = data.subarray(start);
      pending = Buffer.from(data);
    }
    if (pending.length > 0) yield pending;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const code = await exited;
  if (code !== 0 && code !== null) throw gitError(repoPath, args, Object.assign(new Error(stderr), { stderr }));
}
