import type { IdentityKind } from '../store/schema.ts';
import type { Person } from './change.ts';
import type { IdentitiesConfig } from './identities-config.ts';

/** A resolved identity before it is stored: one person, agent or bot. */
export interface ResolvedIdentity {
  key: string;
  name: string;
  email: string;
  kind: IdentityKind;
  githubLogin: string | null;
}

const botPattern = /\[bot\]|^dependabot|^renovate|^github-actions|^greenkeeper|^snyk-bot|^pre-commit-ci/i;
const noreplyLogin = /^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$/i;

/** Parses `Name <email>` (the form aliases use). */
export function parsePerson(text: string): Person {
  const match = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(text);
  if (match === null) return { name: text.trim(), email: '' };
  return { name: match[1] ?? '', email: match[2] ?? '' };
}

/**
 * Resolves names and e-mails (already through .mailmap, which git applies) to identities, using the
 * config's aliases and bot rules. One identity per canonical e-mail, so a person who changed their
 * display name stays one person.
 */
export function createIdentityResolver(config: IdentitiesConfig): (person: Person) => ResolvedIdentity {
  const aliasByEmail = new Map<string, Person & { github?: string | undefined }>();
  const aliasByName = new Map<string, Person & { github?: string | undefined }>();
  for (const alias of config.aliases) {
    const canonical = { ...parsePerson(alias.canonical), github: alias.github };
    aliasByEmail.set(canonical.email.toLowerCase(), canonical);
    for (const email of alias.emails) aliasByEmail.set(email.toLowerCase(), canonical);
    for (const name of alias.names) aliasByName.set(name.toLowerCase(), canonical);
  }
  const extraBots = new Set(config.bots.map((b) => b.toLowerCase()));
  const cache = new Map<string, ResolvedIdentity>();

  return (person) => {
    const cacheKey = `${person.name}\u0000${person.email}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const alias = aliasByEmail.get(person.email.toLowerCase()) ?? aliasByName.get(person.name.toLowerCase());
    const name = alias?.name ?? person.name;
    const email = alias?.email ?? person.email;
    const emailKey = email.toLowerCase();
    const isBot =
      botPattern.test(name) || botPattern.test(email) || extraBots.has(emailKey) || extraBots.has(name.toLowerCase());
    const login = alias?.github ?? noreplyLogin.exec(email)?.[1] ?? null;
    const resolved: ResolvedIdentity = {
      key: emailKey === '' ? `name:${name.toLowerCase()}` : emailKey,
      name,
      email,
      kind: isBot ? 'bot' : 'person',
      githubLogin: login,
    };
    cache.set(cacheKey, resolved);
    return resolved;
  };
}
