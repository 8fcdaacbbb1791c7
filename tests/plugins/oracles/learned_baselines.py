"""Independent reference implementations of the learned in-context baselines, for
tests/plugins/test_learned_baselines.cpp. Run with Debian's /usr/bin/python3 (python3-sklearn,
python3-xgboost).

    learned_baselines.py lasso ALPHA DIR
    learned_baselines.py tree MAX_DEPTH SEEDS DIR        (MAX_DEPTH 0: unlimited)
    learned_baselines.py xgboost MAX_DEPTH N_ESTIMATORS LEARNING_RATE DIR

DIR/prompts.txt holds "N n d", then the N*n*d values of xs and the N*n values of ys (row-major,
whitespace separated, %.17g). Column i of the prediction is the model fitted on the prompt's
points 0..i-1, evaluated at x_i; column 0 is 0. DIR/predictions.txt gets one line of N*n
predictions (%.17g) per fit: one for lasso and xgboost, one per random_state 0..SEEDS-1 for tree
(scikit-learn breaks gain ties by a random feature order, so differing lines reveal a tie).
"""

import os
import sys

import numpy as np


def read_prompts(directory):
    with open(os.path.join(directory, "prompts.txt")) as f:
        values = f.read().split()
    N, n, d = (int(v) for v in values[:3])
    data = np.array(values[3:], dtype=np.float64)
    xs = data[: N * n * d].reshape(N, n, d)
    ys = data[N * n * d :].reshape(N, n)
    assert ys.size == N * n
    return xs, ys


def prefix_predictions(xs, ys, make_model):
    N, n, _ = xs.shape
    out = np.zeros((N, n))
    for p in range(N):
        for i in range(1, n):
            model = make_model()
            model.fit(xs[p, :i], ys[p, :i])
            out[p, i] = model.predict(xs[p, i : i + 1])[0]
    return out


def main(argv):
    method, directory = argv[1], argv[-1]
    xs, ys = read_prompts(directory)
    lines = []
    if method == "lasso":
        from sklearn.linear_model import Lasso

        alpha = float(argv[2])
        lines.append(
            prefix_predictions(
                xs, ys, lambda: Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10_000_000)
            )
        )
    elif method == "tree":
        from sklearn.tree import DecisionTreeRegressor

        max_depth = int(argv[2]) or None
        for seed in range(int(argv[3])):
            lines.append(
                prefix_predictions(xs, ys, lambda: DecisionTreeRegressor(max_depth=max_depth, random_state=seed))
            )
    elif method == "xgboost":
        import xgboost

        max_depth, n_estimators, learning_rate = int(argv[2]), int(argv[3]), float(argv[4])
        # XGBoost stores features and labels as float32; the prompts are float32 values already.
        xs, ys = xs.astype(np.float32), ys.astype(np.float32)
        lines.append(
            prefix_predictions(
                xs,
                ys,
                lambda: xgboost.XGBRegressor(
                    max_depth=max_depth, n_estimators=n_estimators, learning_rate=learning_rate, n_jobs=1
                ),
            )
        )
    else:
        raise SystemExit("unknown method " + method)
    with open(os.path.join(directory, "predictions.txt"), "w") as f:
        for pred in lines:
            f.write(" ".join("%.17g" % v for v in pred.ravel()) + "\n")


if __name__ == "__main__":
    main(sys.argv)
