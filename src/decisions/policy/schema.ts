import { z } from 'zod';

/**
 * The policy sections of .flowgate.yml (tiers, rules, lanes, teams, agents, protected paths,
 * checks, trust). They sit at the top level of the file; the gate module owns their shape.
 */
export const PolicySections = {};
