import { z } from 'zod';

/**
 * The JSON-lines event format (docs/events.md). Events come from other tools, so the schema is
 * lenient where it can be (unknown keys are kept, optional fields may be absent) and strict where
 * a wrong value would corrupt a metric (types, actions, times, shas).
 */

/** A time: ISO 8601 with a UTC offset (`2025-03-01T10:00:00Z`) or Unix seconds. */
export const EventTime = z
  .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
  .describe('ISO 8601 date-time with offset, or Unix seconds');

const Sha = z
  .string()
  .regex(/^[0-9a-fA-F]{7,64}$/, 'expected a git commit sha (7 to 64 hex digits)')
  .describe('Git commit sha (full or abbreviated)');

const base = {
  id: z.string().min(1).max(256).describe('Unique id of this event at its source; re-importing an id changes nothing'),
  at: EventTime.describe('When it happened'),
};

/** A pull request was opened, marked ready for review, closed without merging, or merged. */
export const PullRequestEvent = z.looseObject({
  ...base,
  type: z.literal('pull_request'),
  action: z.enum(['opened', 'ready', 'closed', 'merged']),
  number: z.number().int().positive().describe('Pull request number'),
  author: z.string().min(1).optional().describe('Login or name of the PR author'),
  head_branch: z.string().min(1).optional(),
  base_branch: z.string().min(1).optional(),
  title: z.string().optional(),
  draft: z.boolean().optional().describe('Opened as a draft: review is not expected before `ready`'),
  merge_sha: Sha.optional().describe('The commit that landed on the base branch (merged only)'),
});
export type PullRequestEvent = z.infer<typeof PullRequestEvent>;

/** A review was submitted on a pull request. */
export const ReviewEvent = z.looseObject({
  ...base,
  type: z.literal('review'),
  number: z.number().int().positive().describe('Pull request number'),
  reviewer: z.string().min(1).describe('Login or name of the reviewer'),
  state: z.enum(['approved', 'changes_requested', 'commented']),
});
export type ReviewEvent = z.infer<typeof ReviewEvent>;

/** A check or CI run finished. */
export const CheckEvent = z.looseObject({
  ...base,
  type: z.literal('check'),
  name: z.string().min(1).describe('Check or workflow name'),
  sha: Sha,
  branch: z.string().min(1).optional().describe('Branch the run was for'),
  conclusion: z.enum(['success', 'failure', 'cancelled', 'skipped', 'neutral', 'timed_out']),
  started_at: EventTime.optional(),
});
export type CheckEvent = z.infer<typeof CheckEvent>;

/** A deployment finished. */
export const DeploymentEvent = z.looseObject({
  ...base,
  type: z.literal('deployment'),
  environment: z.string().min(1).describe('e.g. production, staging'),
  result: z.enum(['success', 'failure']),
  sha: Sha.describe('The commit deployed'),
});
export type DeploymentEvent = z.infer<typeof DeploymentEvent>;

/** An incident was opened or resolved; events of one incident share `incident`. */
export const IncidentEvent = z.looseObject({
  ...base,
  type: z.literal('incident'),
  action: z.enum(['opened', 'resolved']),
  incident: z.string().min(1).describe('Incident key shared by its opened and resolved events'),
  severity: z.string().min(1).optional(),
  deployment: z.string().min(1).optional().describe('Event id of the deployment that caused it, when known'),
  sha: Sha.optional().describe('The commit that caused it, when known'),
});
export type IncidentEvent = z.infer<typeof IncidentEvent>;

/** One event of any type, told apart by `type`. */
export const FlowEvent = z.discriminatedUnion('type', [PullRequestEvent, ReviewEvent, CheckEvent, DeploymentEvent, IncidentEvent]);
export type FlowEvent = z.infer<typeof FlowEvent>;

/** The JSON Schema of one event line, as committed in schema/events.schema.json. */
export function eventsJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://flowgate.dev/schema/events.schema.json',
    title: 'flowgate event (one JSON object per line)',
    ...z.toJSONSchema(FlowEvent, { io: 'input', unrepresentable: 'any' }),
  };
}

/** Unix seconds of an event time. */
export function toSeconds(time: string | number): number {
  return typeof time === 'number' ? time : Math.floor(Date.parse(time) / 1000);
}
