import { FlowgateError } from '../../core/errors.ts';

/** The M/M/c closed form: Poisson arrivals, exponential service, c servers, one FIFO queue. */
export interface ErlangC {
  /** Probability an arrival has to wait (Erlang C). */
  pWait: number;
  /** Mean wait in queue (same time unit as 1/rates). */
  meanWait: number;
  /** Mean number waiting (Little's law: lambda * meanWait). */
  meanQueue: number;
  /** Server utilisation lambda / (c mu). */
  utilisation: number;
  /** The q-quantile of the wait: P(W > t) = C e^{-(c mu - lambda) t}. */
  waitQuantile(q: number): number;
}

/** Erlang C for arrival rate `lambda`, service rate `mu` per server and `c` servers; throws when unstable. */
export function erlangC(lambda: number, mu: number, c: number): ErlangC {
  const a = lambda / mu;
  const rho = a / c;
  if (!(rho < 1) || c < 1 || !Number.isInteger(c)) {
    throw new FlowgateError('USAGE', `M/M/c with lambda=${lambda}, mu=${mu}, c=${c} is unstable or invalid (utilisation ${rho.toFixed(2)} must be below 1 with a whole number of servers). Add servers or lower the arrival rate.`);
  }
  // sum_{k<c} a^k/k! and a^c/c!, built term by term to stay finite for large c.
  let term = 1;
  let sum = 0;
  for (let k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  const top = term / (1 - rho);
  const pWait = top / (sum + top);
  const drain = c * mu - lambda;
  const meanWait = pWait / drain;
  return {
    pWait,
    meanWait,
    meanQueue: lambda * meanWait,
    utilisation: rho,
    waitQuantile: (q) => (pWait <= 1 - q ? 0 : Math.log(pWait / (1 - q)) / drain),
  };
}
