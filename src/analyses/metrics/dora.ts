import type { FlowData, FlowDeployment, FlowIncident } from './data.ts';
import { attributeIncident, productionDeployments, type Attribution, type ChangeFlow } from './flow.ts';
import { positionIndex, productionEnvironment } from './load.ts';
import { median, present, quantile } from './stats.ts';

export type Band = 'elite' | 'high' | 'medium' | 'low';

const hour = 3600;
const day = 24 * hour;

/** A half-open time window [from, to), Unix seconds. */
export interface Period {
  from: number;
  to: number;
}

/** Inside the period. */
export function within(t: number | null, p: Period): boolean {
  return t !== null && t >= p.from && t < p.to;
}

export interface IncidentOutcome {
  incident: FlowIncident;
  deploymentId: string | null;
  attribution: Attribution;
  restore: number | null;
}

export interface DoraMetrics {
  deployments: { count: number; failed: number; perWeek: number; deployDays: number; derived: number; band: Band | null };
  leadTime: { p50: number | null; p90: number | null; changes: number; basis: 'deployment' | 'merge'; band: Band | null };
  changeFailureRate: { rate: number | null; failed: number; total: number; band: Band | null; failedDeployments: string[] };
  timeToRestore: { p50: number | null; incidents: number; resolved: number; band: Band | null };
  incidents: IncidentOutcome[];
}

/** Bands per DORA 2024 (lead time, restore) and DevLake (failure rate); frequency from the average rate. */
export const bands = {
  deploymentFrequency(perDay: number): Band {
    if (perDay >= 1) return 'elite';
    if (perDay >= 1 / 7) return 'high';
    if (perDay >= 1 / 30) return 'medium';
    return 'low';
  },
  leadTime(seconds: number): Band {
    if (seconds < day) return 'elite';
    if (seconds < 7 * day) return 'high';
    if (seconds < 30 * day) return 'medium';
    return 'low';
  },
  changeFailureRate(rate: number): Band {
    if (rate <= 0.05) return 'elite';
    if (rate <= 0.1) return 'high';
    if (rate <= 0.15) return 'medium';
    return 'low';
  },
  timeToRestore(seconds: number): Band {
    if (seconds < hour) return 'elite';
    if (seconds < day) return 'high';
    if (seconds < 7 * day) return 'medium';
    return 'low';
  },
};

/** Production deployments of any result. */
function allProduction(deployments: readonly FlowDeployment[]): FlowDeployment[] {
  return deployments.filter((d) => productionEnvironment.test(d.environment));
}

/** The DORA four keys over a period (definitions in docs/metrics.md). */
export function computeDora(data: FlowData, flows: readonly ChangeFlow[], period: Period): DoraMetrics {
  const positionOf = positionIndex(data.changes);
  const successes = productionDeployments(data.deployments).filter((d) => within(d.at, period));
  const weeks = Math.max(1, (period.to - period.from) / (7 * day));
  const deployDays = new Set(successes.map((d) => Math.floor(d.at / day))).size;
  const perDay = successes.length / Math.max(1, (period.to - period.from) / day);

  const hasDeployments = productionDeployments(data.deployments).some((d) => d.position !== null);
  const leadTimes = present(
    flows.filter((f) => within(hasDeployments ? (f.deployment?.at ?? null) : f.mergedAt, period)).map((f) => f.leadTime),
  );
  const ltP50 = median(leadTimes);

  const incidents: IncidentOutcome[] = data.incidents.map((incident) => {
    const { deployment, how } = attributeIncident(incident, data.deployments, positionOf);
    const restore = incident.resolvedAt === null ? null : Math.max(0, incident.resolvedAt - incident.openedAt);
    return { incident, deploymentId: deployment?.id ?? null, attribution: how, restore };
  });
  const caused = new Set(incidents.map((i) => i.deploymentId).filter((id): id is string => id !== null));
  const inPeriod = allProduction(data.deployments).filter((d) => within(d.at, period));
  const failedDeployments = inPeriod.filter((d) => d.result === 'failure' || caused.has(d.id)).map((d) => d.id);
  const cfr = inPeriod.length === 0 ? null : failedDeployments.length / inPeriod.length;
  const periodIncidents = incidents.filter((i) => within(i.incident.openedAt, period));
  const restores = present(periodIncidents.map((i) => i.restore));
  const mttr = median(restores);

  return {
    deployments: {
      count: successes.length,
      failed: inPeriod.length - successes.length,
      perWeek: successes.length / weeks,
      deployDays,
      derived: successes.filter((d) => d.derived).length,
      band: successes.length === 0 ? null : bands.deploymentFrequency(perDay),
    },
    leadTime: {
      p50: ltP50,
      p90: quantile(leadTimes, 0.9),
      changes: leadTimes.length,
      basis: hasDeployments ? 'deployment' : 'merge',
      band: ltP50 === null ? null : bands.leadTime(ltP50),
    },
    changeFailureRate: {
      rate: cfr,
      failed: failedDeployments.length,
      total: inPeriod.length,
      band: cfr === null ? null : bands.changeFailureRate(cfr),
      failedDeployments,
    },
    timeToRestore: {
      p50: mttr,
      incidents: periodIncidents.length,
      resolved: restores.length,
      band: mttr === null ? null : bands.timeToRestore(mttr),
    },
    incidents: periodIncidents,
  };
}
