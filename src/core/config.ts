import { parseDocument } from 'yaml';
import { z } from 'zod';
import { LabelsConfig } from '../analyses/labels/config.ts';
import { ProvenanceConfig } from '../analyses/provenance/config.ts';
import { RoutingConfig } from '../analyses/routing/config.ts';
import { IdentitiesConfig } from '../changes/identities-config.ts';
import { PolicySections } from '../decisions/policy/schema.ts';
import { readFileAt } from '../sources/git/git.ts';
import { FlowgateError } from './errors.ts';

/** The name of the config and policy file at a repository's root. */
export const configFileName = '.flowgate.yml';

/** The whole .flowgate.yml: strict, so a misspelt key is an error rather than a silent default. */
export const FlowgateConfig = z.strictObject({
  version: z.literal(1).default(1).describe('Format version of this file'),
  // prefault: an absent section is parsed as {} so every inner default applies (zod's default would skip them).
  identities: IdentitiesConfig.prefault({}),
  provenance: ProvenanceConfig.prefault({}),
  labels: LabelsConfig.prefault({}),
  routing: RoutingConfig.prefault({}),
  ...PolicySections,
});
export type FlowgateConfig = z.infer<typeof FlowgateConfig>;

/** Parses and validates config text; errors name the file, the line and the path of the bad key. */
export function parseConfig(text: string, source: string): FlowgateConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new FlowgateError('CONFIG_INVALID', `${source}: YAML syntax error: ${first?.message ?? 'unknown'}. Fix the file and retry.`, {
      details: { source },
    });
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = FlowgateConfig.safeParse(raw);
  if (!result.success) {
    throw new FlowgateError('CONFIG_INVALID', `${source} is invalid:\n${z.prettifyError(result.error)}\nFix the file and retry.`, {
      cause: result.error,
      details: { source, issues: result.error.issues },
    });
  }
  return result.data;
}

/** The default config: what a repository without .flowgate.yml gets. */
export function defaultConfig(): FlowgateConfig {
  return parseConfig('{}', 'default config');
}

/**
 * Reads .flowgate.yml as it is at `rev` (never from the work tree, so a change cannot alter the
 * rules that judge it); the default config when the file does not exist there.
 */
export function readConfigAt(repoPath: string, rev: string): FlowgateConfig {
  const text = readFileAt(repoPath, rev, configFileName);
  if (text === null) return defaultConfig();
  return parseConfig(text, `${configFileName} at ${rev}`);
}

/** JSON Schema of .flowgate.yml, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(FlowgateConfig, { io: 'input', unrepresentable: 'any' });
}
