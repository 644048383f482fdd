/**
 * One error class for all of flowgate. The `code` is stable and documented: the CLI maps it to an
 * exit status and a one-line message, the server to an HTTP status. Messages name the problem and
 * what to do about it.
 */
export type ErrorCode =
  | 'USAGE' // wrong flags or arguments
  | 'CONFIG_INVALID' // a config or policy file that fails its schema
  | 'NOT_A_REPOSITORY' // the path is not a git repository
  | 'GIT_FAILED' // a git command failed
  | 'GIT_OBJECT_MISSING' // partial clone or absent blob
  | 'REVISION_NOT_FOUND' // a rev that does not resolve
  | 'STORE_FAILED' // the database refused an operation
  | 'STORE_UNREACHABLE' // the database could not be opened or connected
  | 'NOT_FOUND' // a stored thing that does not exist
  | 'EVENT_INVALID' // a malformed imported or posted event
  | 'AUDIT_TAMPERED' // the audit log failed verification
  | 'UNAUTHORIZED' // missing or bad credentials / signature
  | 'FORBIDDEN' // credentials without the needed scope
  | 'UPSTREAM_FAILED' // an outside service (GitHub) failed
  | 'INSUFFICIENT_DATA' // too little history for the asked analysis
  | 'INTERNAL';

/** Exit status per code, for the CLI; documented in docs/cli.md. */
export const exitStatusByCode: Record<ErrorCode, number> = {
  USAGE: 64,
  CONFIG_INVALID: 78,
  NOT_A_REPOSITORY: 66,
  GIT_FAILED: 70,
  GIT_OBJECT_MISSING: 70,
  REVISION_NOT_FOUND: 66,
  STORE_FAILED: 74,
  STORE_UNREACHABLE: 69,
  NOT_FOUND: 66,
  EVENT_INVALID: 65,
  AUDIT_TAMPERED: 3,
  UNAUTHORIZED: 77,
  FORBIDDEN: 77,
  UPSTREAM_FAILED: 69,
  INSUFFICIENT_DATA: 65,
  INTERNAL: 70,
};

/** HTTP status per code, for the server. */
export const httpStatusByCode: Record<ErrorCode, number> = {
  USAGE: 400,
  CONFIG_INVALID: 422,
  NOT_A_REPOSITORY: 404,
  GIT_FAILED: 500,
  GIT_OBJECT_MISSING: 500,
  REVISION_NOT_FOUND: 404,
  STORE_FAILED: 500,
  STORE_UNREACHABLE: 503,
  NOT_FOUND: 404,
  EVENT_INVALID: 400,
  AUDIT_TAMPERED: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UPSTREAM_FAILED: 502,
  INSUFFICIENT_DATA: 422,
  INTERNAL: 500,
};

export class FlowgateError extends Error {
  override readonly name = 'FlowgateError';
  readonly code: ErrorCode;
  /** Machine-readable context (paths, line numbers, fields) for logs and JSON output. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a FlowgateError, optionally of the given code. */
export function isFlowgateError(error: unknown, code?: ErrorCode): error is FlowgateError {
  return error instanceof FlowgateError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a FlowgateError, keeping FlowgateErrors as they are. */
export function toFlowgateError(error: unknown, fallback: ErrorCode = 'INTERNAL'): FlowgateError {
  if (error instanceof FlowgateError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FlowgateError(fallback, message, { cause: error });
}
