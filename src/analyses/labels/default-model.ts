/**
 * The default risk model, for repositories with too little history of their own (fewer than 500
 * changes or 30 known defect-inducing ones). A logistic regression on thirteen Kamei features
 * (signed log, standardised; REXP left out because the datasets weight recency differently),
 * fit once on the public Qt and OpenStack JIT datasets (ISSTA 2021 replication package, MIT
 * licence; 46669 changes) and Platt-calibrated on them. In-sample AUC 0.773.
 * Regenerate with src/analyses/labels/__fixtures__/derive-default-model.ts; nothing reads those
 * datasets at run time.
 */
import type { Calibrator } from '../risk/calibration.ts';
import type { LogisticModel } from '../risk/logistic.ts';

/** The default model: input names (raw feature values), the fitted logistic regression and its calibrator. */
export const defaultModel: { names: string[]; logistic: LogisticModel; calibrator: Calibrator } = {
  "names": [
    "age",
    "entropy",
    "exp",
    "fix",
    "la",
    "ld",
    "lt",
    "nd",
    "ndev",
    "nf",
    "ns",
    "nuc",
    "sexp"
  ],
  "logistic": {
    "kind": "logistic",
    "mean": [
      4.025483,
      0.432827,
      6.497371,
      0.219697,
      2.527882,
      1.925976,
      7.0066,
      0.968263,
      3.187343,
      1.122714,
      0.748812,
      4.448766,
      4.858661
    ],
    "sd": [
      1.392499,
      0.472222,
      2.151766,
      0.322514,
      1.53658,
      1.53265,
      1.759271,
      0.41934,
      1.250108,
      0.571279,
      0.153629,
      1.633331,
      1.995952
    ],
    "coef": [
      -0.276975,
      0.041328,
      -0.366426,
      0.230236,
      0.825761,
      0.068956,
      -0.237607,
      0.080521,
      0.378292,
      0.133747,
      -0.1019,
      -0.105589,
      0.312803
    ],
    "intercept": -1.678683
  },
  "calibrator": {
    "kind": "platt",
    "a": 1.001998010103401,
    "b": 0.002217135910832119
  }
};
