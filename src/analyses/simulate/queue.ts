import { FlowgateError } from '../../core/errors.ts';
import { reviewTiers, type ReviewTier } from '../routing/select.ts';
import { exponential, mean, quantile, seededRandom, type Random } from './random.ts';

/** A service-time distribution in minutes. */
export type ServiceTime =
  | { kind: 'exponential'; meanMinutes: number }
  | { kind: 'empirical'; minutes: readonly number[] }
  | { kind: 'fixed'; minutes: number };

/** A reviewer in the simulation. */
export interface SimReviewer {
  id: string;
  /** Tiers this person may review (default: all human tiers). */
  tiers?: readonly ReviewTier[] | undefined;
  /** Reviews held at once, started or not (default: the params' maxOpenPerReviewer). */
  maxOpen?: number | undefined;
  /** Work speed: service time is divided by it (default 1). */
  speed?: number | undefined;
  /** This reviewer's own service times, overriding the tier's. */
  service?: ServiceTime | undefined;
  /** Reviews this person works on at the same time (default 1: one after another). */
  parallel?: number | undefined;
  /**
   * Time to done of a review that finds this person with nothing else open, of which `effortShare`
   * is their own work; the rest is spent outside them (the author iterating, CI) before they work on
   * it. The request holds a place in `maxOpen` during that delay but no work slot, so the person's
   * capacity is `parallel / (effortShare * mean(minutes))`. Overrides `service`.
   */
  unloaded?: { minutes: readonly number[]; effortShare: number } | undefined;
}

/** A Poisson arrival stream of one tier. */
export interface ArrivalStream {
  tier: ReviewTier;
  ratePerHour: number;
}

/** One arrival replayed from history: minutes from the start, optionally pre-assigned to a reviewer. */
export interface ReplayArrival {
  minute: number;
  tier: ReviewTier;
  reviewer?: string | undefined;
  serviceMinutes?: number | undefined;
}

export interface QueueParams {
  seed?: number | undefined;
  /** Arrivals happen in [0, horizon); the queue then drains. */
  horizonMinutes: number;
  /** Arrivals before this are simulated but not counted. */
  warmupMinutes?: number | undefined;
  arrivals: readonly ArrivalStream[] | { replay: readonly ReplayArrival[] };
  service: Partial<Record<ReviewTier, ServiceTime>>;
  reviewers: readonly SimReviewer[];
  /** Reviews one person may hold at once; 1 is the classic M/M/c pooled queue (default: unlimited). */
  maxOpenPerReviewer?: number | undefined;
  /** Spacing of the queue-length series (default: horizon / 200). */
  sampleEveryMinutes?: number | undefined;
}

/** The what-ifs the simulator answers. */
export interface WhatIf {
  /** Multiply every arrival rate (replays are thinned or duplicated). */
  volumeFactor?: number | undefined;
  /** Share of all arrivals that go to the `auto` lane (the other tiers keep their proportions). */
  autoShare?: number | undefined;
  /** Add this many reviewers like the average one (all tiers but senior). */
  addReviewers?: number | undefined;
  /** Remove these reviewers. */
  removeReviewers?: readonly string[] | undefined;
  maxOpenPerReviewer?: number | undefined;
}

export interface WaitStats {
  count: number;
  meanMinutes: number;
  p50Minutes: number;
  p90Minutes: number;
}

export interface SimulationResult {
  /** Counted arrivals that needed a human review. */
  requests: number;
  /** Counted arrivals in the auto lane (no wait, no reviewer). */
  autoRequests: number;
  /** Arrival to review start. */
  wait: WaitStats;
  /** Arrival to review done. */
  sojourn: WaitStats;
  byTier: Partial<Record<ReviewTier, WaitStats>>;
  /** Requests waiting for a reviewer to start (time-weighted over the counted window). */
  queue: { meanLength: number; maxLength: number };
  reviewers: { id: string; utilisation: number; completed: number }[];
  /** Requests no reviewer could ever take (no one eligible for their tier). */
  unserved: number;
  /** Requests waiting, and reviews in progress (busy reviewers when each works on one at a time). */
  series: { minute: number; queueLength: number; inProgress: number }[];
  /** Raw waits and sojourns of counted requests, minutes (for backtests and histograms). */
  waits: number[];
  sojourns: number[];
}

interface Request {
  arrival: number;
  tier: ReviewTier;
  service: number | null;
  /** Minutes outside the reviewer before they can work on it (see SimReviewer.unloaded). */
  delay: number;
  reviewer: number | null;
  counted: boolean;
}

interface ReviewerState {
  spec: SimReviewer;
  open: number;
  limit: number;
  /** Reviews in progress, at most `parallel`. */
  active: number;
  parallel: number;
  lastFree: number;
  personal: Request[];
  busyTime: number;
  completed: number;
}

/** A binary min-heap of events ordered by time then insertion. */
class EventHeap<T> {
  private items: { time: number; seq: number; value: T }[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  push(time: number, value: T): void {
    const items = this.items;
    items.push({ time, seq: this.seq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): { time: number; value: T } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(l, m)) m = l;
        if (r < items.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private less(i: number, j: number): boolean {
    const a = this.items[i];
    const b = this.items[j];
    if (a === undefined || b === undefined) return false;
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }
  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    if (a === undefined || b === undefined) return;
    this.items[i] = b;
    this.items[j] = a;
  }
}

const humanTiers = reviewTiers.filter((t) => t !== 'auto');

function sampleService(random: Random, service: ServiceTime): number {
  if (service.kind === 'exponential') return exponential(random, service.meanMinutes);
  if (service.kind === 'fixed') return service.minutes;
  const pick = service.minutes[Math.floor(random() * service.minutes.length)];
  return pick ?? 0;
}

function stats(values: readonly number[]): WaitStats {
  return { count: values.length, meanMinutes: mean(values), p50Minutes: quantile(values, 0.5), p90Minutes: quantile(values, 0.9) };
}

/** Checks params before a run: every problem is a USAGE error naming the field. */
function validate(params: QueueParams): void {
  const bad = (message: string): never => {
    throw new FlowgateError('USAGE', `Simulation parameters: ${message}.`, { details: { params: { horizonMinutes: params.horizonMinutes, reviewers: params.reviewers.length } } });
  };
  if (!(params.horizonMinutes > 0)) bad('horizonMinutes must be positive');
  if (params.reviewers.length === 0) bad('at least one reviewer is needed (measure some history or add reviewers)');
  if (Array.isArray(params.arrivals)) {
    for (const a of params.arrivals as readonly ArrivalStream[]) if (!(a.ratePerHour >= 0)) bad(`arrival rate of tier ${a.tier} must be zero or more`);
  }
  for (const tier of humanTiers) {
    const s = params.service[tier];
    if (s === undefined) continue;
    if (s.kind === 'empirical' && s.minutes.length === 0) bad(`empirical service times of tier ${tier} are empty`);
    if (s.kind === 'exponential' && !(s.meanMinutes > 0)) bad(`mean service time of tier ${tier} must be positive`);
  }
}

/**
 * A discrete-event simulation of the review queue: arrivals (Poisson per tier, or replayed),
 * reviewers who each take up to `maxOpen` requests and review them one at a time, a FIFO queue per
 * tier for requests nobody can take yet. Seeded: the same params give the same result.
 */
export function simulateQueue(params: QueueParams): SimulationResult {
  validate(params);
  const random = seededRandom(params.seed ?? 1);
  const horizon = params.horizonMinutes;
  const warmup = params.warmupMinutes ?? 0;
  const defaultLimit = params.maxOpenPerReviewer ?? Infinity;
  const reviewers: ReviewerState[] = params.reviewers.map((spec) => ({
    spec,
    open: 0,
    limit: spec.maxOpen ?? defaultLimit,
    active: 0,
    parallel: Math.max(1, Math.floor(spec.parallel ?? 1)),
    lastFree: 0,
    personal: [],
    busyTime: 0,
    completed: 0,
  }));
  const byId = new Map(reviewers.map((r, i) => [r.spec.id, i]));
  const serves = (r: ReviewerState, tier: ReviewTier): boolean => (r.spec.tiers ?? humanTiers).includes(tier);
  const queues = new Map<ReviewTier, Request[]>(humanTiers.map((t) => [t, []]));
  const heads = new Map<ReviewTier, number>(humanTiers.map((t) => [t, 0]));
  type Event =
    | { kind: 'arrival'; request: Request; stream: number }
    | { kind: 'ready'; reviewer: number; request: Request }
    | { kind: 'done'; reviewer: number; request: Request }
    | { kind: 'sample' };
  const events = new EventHeap<Event>();

  const waits: number[] = [];
  const sojourns: number[] = [];
  const tierWaits = new Map<ReviewTier, number[]>();
  let autoRequests = 0;
  let waiting = 0;
  let maxWaiting = 0;
  let waitingArea = 0;
  let lastChange = warmup;
  let busyCount = 0;
  let now = 0;
  const setWaiting = (delta: number): void => {
    if (now > warmup) {
      const from = Math.max(lastChange, warmup);
      waitingArea += waiting * (Math.min(now, horizon) - Math.min(from, horizon));
      lastChange = now;
    }
    waiting += delta;
    if (now >= warmup && now < horizon) maxWaiting = Math.max(maxWaiting, waiting);
  };

  const serviceFor = (r: ReviewerState, request: Request): number => {
    if (request.service !== null) return request.service;
    const dist = r.spec.service ?? params.service[request.tier] ?? params.service.standard;
    if (dist === undefined) throw new FlowgateError('USAGE', `Simulation parameters: no service time for tier ${request.tier}; give service.${request.tier} or service.standard.`);
    return sampleService(random, dist) / (r.spec.speed ?? 1);
  };
  const start = (index: number, request: Request): void => {
    const r = reviewers[index];
    if (r === undefined) return;
    r.active += 1;
    busyCount += 1;
    setWaiting(-1);
    // The delay outside the reviewer is not waiting for them.
    const wait = now - request.arrival - request.delay;
    if (request.counted) {
      waits.push(wait);
      const list = tierWaits.get(request.tier) ?? [];
      list.push(wait);
      tierWaits.set(request.tier, list);
    }
    const duration = serviceFor(r, request);
    // Utilisation counts busy time inside the measured window only.
    r.busyTime += Math.max(0, Math.min(now + duration, horizon) - Math.max(now, warmup));
    events.push(now + duration, { kind: 'done', reviewer: index, request });
  };
  const ready = (index: number, request: Request): void => {
    const r = reviewers[index];
    if (r === undefined) return;
    if (r.active < r.parallel) start(index, request);
    else r.personal.push(request);
  };
  const assign = (index: number, request: Request): void => {
    const r = reviewers[index];
    if (r === undefined) return;
    r.open += 1;
    const unloaded = r.spec.unloaded;
    if (unloaded !== undefined && request.service === null && unloaded.minutes.length > 0) {
      const total = sampleService(random, { kind: 'empirical', minutes: unloaded.minutes });
      const share = Math.min(1, Math.max(0, unloaded.effortShare));
      request.service = (total * share) / (r.spec.speed ?? 1);
      request.delay = total * (1 - share);
    }
    if (request.delay > 0) {
      setWaiting(-1); // out of the queue while outside the reviewer; back in when ready
      events.push(now + request.delay, { kind: 'ready', reviewer: index, request });
    } else ready(index, request);
  };
  const pickReviewer = (tier: ReviewTier): number | null => {
    let best: number | null = null;
    for (const [i, r] of reviewers.entries()) {
      if (r.open >= r.limit || !serves(r, tier)) continue;
      const b = best === null ? undefined : reviewers[best];
      const rFull = r.active >= r.parallel ? 1 : 0;
      const bFull = b === undefined ? 0 : b.active >= b.parallel ? 1 : 0;
      if (b === undefined || r.open < b.open || (r.open === b.open && rFull < bFull) || (r.open === b.open && rFull === bFull && r.lastFree < b.lastFree)) best = i;
    }
    return best;
  };
  const pullFromQueue = (index: number): void => {
    const r = reviewers[index];
    if (r === undefined) return;
    while (r.open < r.limit) {
      let bestTier: ReviewTier | null = null;
      let bestArrival = Infinity;
      for (const tier of humanTiers) {
        if (!serves(r, tier)) continue;
        const queue = queues.get(tier) ?? [];
        const head = queue[heads.get(tier) ?? 0];
        if (head !== undefined && head.arrival < bestArrival) {
          bestArrival = head.arrival;
          bestTier = tier;
        }
      }
      if (bestTier === null) return;
      const h = heads.get(bestTier) ?? 0;
      const request = queues.get(bestTier)?.[h];
      heads.set(bestTier, h + 1);
      if (request === undefined) return;
      assign(index, request);
    }
  };

  // Arrivals: one pending event per Poisson stream, or every replayed arrival up front.
  const streams = Array.isArray(params.arrivals) ? (params.arrivals as readonly ArrivalStream[]) : [];
  const nextArrival = (stream: number, from: number): void => {
    const s = streams[stream];
    if (s === undefined || s.ratePerHour <= 0) return;
    const at = from + exponential(random, 60 / s.ratePerHour);
    if (at >= horizon) return;
    events.push(at, { kind: 'arrival', stream, request: { arrival: at, tier: s.tier, service: null, delay: 0, reviewer: null, counted: at >= warmup } });
  };
  if (Array.isArray(params.arrivals)) {
    for (let i = 0; i < streams.length; i++) nextArrival(i, 0);
  } else {
    for (const a of (params.arrivals as { replay: readonly ReplayArrival[] }).replay) {
      if (a.minute < 0 || a.minute >= horizon) continue;
      const reviewer = a.reviewer === undefined ? null : (byId.get(a.reviewer) ?? null);
      events.push(a.minute, { kind: 'arrival', stream: -1, request: { arrival: a.minute, tier: a.tier, service: a.serviceMinutes ?? null, delay: 0, reviewer, counted: a.minute >= warmup } });
    }
  }
  const every = params.sampleEveryMinutes ?? horizon / 200;
  const series: SimulationResult['series'] = [];
  for (let t = 0; t < horizon; t += every) events.push(t, { kind: 'sample' });

  let unserved = 0;
  for (let event = events.pop(); event !== undefined; event = events.pop()) {
    now = event.time;
    const e = event.value;
    if (e.kind === 'sample') {
      series.push({ minute: now, queueLength: waiting, inProgress: busyCount });
      continue;
    }
    if (e.kind === 'ready') {
      setWaiting(1);
      ready(e.reviewer, e.request);
      continue;
    }
    if (e.kind === 'arrival') {
      if (e.stream >= 0) nextArrival(e.stream, now);
      const request = e.request;
      if (request.tier === 'auto') {
        if (request.counted) autoRequests += 1;
        continue;
      }
      setWaiting(1);
      if (request.reviewer !== null) {
        assign(request.reviewer, request);
        continue;
      }
      const index = pickReviewer(request.tier);
      if (index !== null) assign(index, request);
      else if (!reviewers.some((r) => serves(r, request.tier))) {
        unserved += 1;
        setWaiting(-1);
      } else queues.get(request.tier)?.push(request);
      continue;
    }
    const r = reviewers[e.reviewer];
    if (r === undefined) continue;
    r.active -= 1;
    busyCount -= 1;
    r.open -= 1;
    r.lastFree = now;
    if (e.request.counted) {
      r.completed += 1;
      sojourns.push(now - e.request.arrival);
    }
    const next = r.personal.shift();
    if (next !== undefined) start(e.reviewer, next);
    pullFromQueue(e.reviewer);
  }
  setWaiting(0);
  const window = Math.max(1e-9, horizon - warmup);
  const byTier: Partial<Record<ReviewTier, WaitStats>> = {};
  for (const [tier, list] of tierWaits) byTier[tier] = stats(list);
  return {
    requests: waits.length,
    autoRequests,
    wait: stats(waits),
    sojourn: stats(sojourns),
    byTier,
    queue: { meanLength: waitingArea / window, maxLength: maxWaiting },
    reviewers: reviewers.map((r) => ({ id: r.spec.id, utilisation: r.busyTime / (window * r.parallel), completed: r.completed })),
    unserved,
    series,
    waits,
    sojourns,
  };
}

/** Applies what-ifs to measured params: scaled volume, a target auto-lane share, reviewers added or removed, a new open limit. */
export function applyWhatIf(params: QueueParams, whatIf: WhatIf): QueueParams {
  let arrivals = params.arrivals;
  const factor = whatIf.volumeFactor ?? 1;
  if (!(factor >= 0)) throw new FlowgateError('USAGE', `volume factor must be zero or more, got ${factor}.`);
  if (whatIf.autoShare !== undefined && !(whatIf.autoShare >= 0 && whatIf.autoShare <= 1)) {
    throw new FlowgateError('USAGE', `auto-lane share must be between 0 and 1, got ${whatIf.autoShare}.`);
  }
  if (Array.isArray(arrivals)) {
    let streams = (arrivals as readonly ArrivalStream[]).map((a) => ({ ...a, ratePerHour: a.ratePerHour * factor }));
    const share = whatIf.autoShare;
    if (share !== undefined) {
      const total = streams.reduce((s, a) => s + a.ratePerHour, 0);
      const human = streams.filter((a) => a.tier !== 'auto');
      const humanTotal = human.reduce((s, a) => s + a.ratePerHour, 0);
      streams = [
        { tier: 'auto' as const, ratePerHour: total * share },
        ...human.map((a) => ({ ...a, ratePerHour: humanTotal === 0 ? 0 : (a.ratePerHour / humanTotal) * total * (1 - share) })),
      ];
    }
    arrivals = streams;
  } else {
    const replay = (arrivals as { replay: readonly ReplayArrival[] }).replay;
    const random = seededRandom((params.seed ?? 1) + 7919);
    const scaled: ReplayArrival[] = [];
    for (const a of replay) {
      // Whole copies, plus one more with the fractional probability; copies get no fixed reviewer so they spread.
      const copies = Math.floor(factor) + (random() < factor - Math.floor(factor) ? 1 : 0);
      for (let k = 0; k < copies; k++) scaled.push(k === 0 ? a : { ...a, reviewer: undefined, minute: a.minute + random() });
    }
    const share = whatIf.autoShare;
    if (share !== undefined) {
      const currentAuto = scaled.filter((a) => a.tier === 'auto').length / Math.max(1, scaled.length);
      // Move a random part of the human-reviewed arrivals to auto until the share is reached (never back).
      const moveProbability = currentAuto >= share ? 0 : (share - currentAuto) / (1 - currentAuto);
      arrivals = { replay: scaled.map((a) => (a.tier !== 'auto' && random() < moveProbability ? { ...a, tier: 'auto' as const, reviewer: undefined } : a)) };
    } else arrivals = { replay: scaled };
  }
  const removed = new Set(whatIf.removeReviewers ?? []);
  const unknown = [...removed].filter((id) => !params.reviewers.some((r) => r.id === id));
  if (unknown.length > 0) throw new FlowgateError('USAGE', `Cannot remove unknown reviewer(s): ${unknown.join(', ')}. Known: ${params.reviewers.map((r) => r.id).join(', ')}.`);
  const reviewers: SimReviewer[] = params.reviewers.filter((r) => !removed.has(r.id));
  // An added reviewer works like the typical measured one: the pooled unloaded times at the median effort share.
  const measured = params.reviewers.flatMap((r) => (r.unloaded === undefined ? [] : [r.unloaded]));
  const typical = measured.length === 0 ? undefined : { minutes: [...new Set(measured.map((u) => u.minutes))].flat(), effortShare: quantile(measured.map((u) => u.effortShare), 0.5) };
  for (let i = 0; i < (whatIf.addReviewers ?? 0); i++) reviewers.push({ id: `added-${i + 1}`, tiers: humanTiers.filter((t) => t !== 'senior'), ...(typical === undefined ? {} : { unloaded: typical }) });
  if (!Array.isArray(arrivals) && removed.size > 0) {
    // Replayed requests of a removed reviewer go to whoever is free.
    arrivals = { replay: (arrivals as { replay: readonly ReplayArrival[] }).replay.map((a) => (a.reviewer !== undefined && removed.has(a.reviewer) ? { ...a, reviewer: undefined } : a)) };
  }
  return { ...params, arrivals, reviewers, maxOpenPerReviewer: whatIf.maxOpenPerReviewer ?? params.maxOpenPerReviewer };
}

/** One chartable series: name, unit and [minute, value] points. */
export interface ChartSeries {
  name: string;
  unit: string;
  points: [number, number][];
}

/** The simulation's time series for charts (the report's queue chart): queue length and reviews in progress over time. */
export function simulationSeries(result: SimulationResult): ChartSeries[] {
  return [
    { name: 'waiting requests', unit: 'requests', points: result.series.map((p) => [p.minute, p.queueLength]) },
    { name: 'reviews in progress', unit: 'reviews', points: result.series.map((p) => [p.minute, p.inProgress]) },
  ];
}
