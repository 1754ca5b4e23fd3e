#!/usr/bin/env python3
"""Surprise's SVD (biased matrix factorization by SGD), step for step, in
double precision and the standard library only: a reference for recfuse's
sgd_mf on MovieLens 100K's GroupLens folds u1..u5.

The loop is Surprise's SVD.sgd (surprise/prediction_algorithms/
matrix_factorization.pyx, v1.1): biases start at zero, factors at
N(init_mean, init_std); each epoch visits the training ratings in the
trainset's order (user by user in order of first appearance, each user's
ratings in file order) and applies

    err  = r - (mu + b_u + b_i + q_i . p_u)
    b_u += lr * (err - reg * b_u);   b_i += lr * (err - reg * b_i)
    p_u += lr * (err * q_i - reg * p_u);   q_i += lr * (err * p_u - reg * q_i)

(q_i's update reads p_u from before its own update). A test rating is
estimated as mu plus the bias of a known user, of a known item, and the dot
product when both are known, clipped to [1, 5]. The only departure is the
random start: Python's random.gauss, not NumPy's generator, so the draws
differ while their law is the same.

Usage: surprise_svd_ref.py [--data DIR] [--folds u1,u2,...] [--seeds 1,2]
       [--factors 100] [--epochs 20] [--lr 0.005] [--reg 0.02]
DIR defaults to $RECFUSE_DATA/ml-100k, else ../shared/data/ml-100k.
Prints RMSE and MAE per fold and seed, and the mean over folds per seed.
About a minute a fold on one core at the defaults.
"""
import argparse
import math
import os
import random
import sys


def read_fold(path):
    rows = []
    with open(path, encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            parts = line.split("\t")
            if len(parts) < 3:
                sys.exit(f"{path}:{n}: expected user, item, rating, timestamp separated by tabs")
            rows.append((parts[0], parts[1], float(parts[2])))
    return rows


def fit(train, factors, epochs, lr, reg, init_mean, init_std, seed):
    rng = random.Random(seed)
    users, items = {}, {}
    by_user = {}
    for u, i, r in train:
        uid = users.setdefault(u, len(users))
        iid = items.setdefault(i, len(items))
        by_user.setdefault(uid, []).append((iid, r))
    order = [(u, i, r) for u, rs in by_user.items() for i, r in rs]
    mu = sum(r for _, _, r in train) / len(train)
    bu = [0.0] * len(users)
    bi = [0.0] * len(items)
    p = [[rng.gauss(init_mean, init_std) for _ in range(factors)] for _ in range(len(users))]
    q = [[rng.gauss(init_mean, init_std) for _ in range(factors)] for _ in range(len(items))]
    for _ in range(epochs):
        for u, i, r in order:
            pu, qi = p[u], q[i]
            err = r - (mu + bu[u] + bi[i] + sum(a * b for a, b in zip(qi, pu)))
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])
            p[u] = [a + lr * (err * b - reg * a) for a, b in zip(pu, qi)]
            q[i] = [b + lr * (err * a - reg * b) for a, b in zip(pu, qi)]
    return users, items, mu, bu, bi, p, q


def evaluate(model, test):
    users, items, mu, bu, bi, p, q = model
    se = ae = 0.0
    for u, i, r in test:
        est = mu
        uid, iid = users.get(u), items.get(i)
        if uid is not None:
            est += bu[uid]
        if iid is not None:
            est += bi[iid]
        if uid is not None and iid is not None:
            est += sum(a * b for a, b in zip(p[uid], q[iid]))
        est = min(5.0, max(1.0, est))
        se += (est - r) ** 2
        ae += abs(est - r)
    return math.sqrt(se / len(test)), ae / len(test)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_root = os.environ.get("RECFUSE_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
    ap.add_argument("--data", default=os.path.join(default_root, "ml-100k"))
    ap.add_argument("--folds", default="u1,u2,u3,u4,u5")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--factors", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--reg", type=float, default=0.02)
    ap.add_argument("--init-mean", type=float, default=0.0)
    ap.add_argument("--init-std", type=float, default=0.1)
    a = ap.parse_args()
    for fold in a.folds.split(","):
        for ext in ("base", "test"):
            path = os.path.join(a.data, f"{fold}.{ext}")
            if not os.path.exists(path):
                sys.exit(f"{path}: not found; MovieLens 100K (ml-100k.zip from "
                         "https://grouplens.org/datasets/movielens/100k/) unpacked there, or --data DIR")
    for seed in (int(s) for s in a.seeds.split(",")):
        rmses, maes = [], []
        for fold in a.folds.split(","):
            train = read_fold(os.path.join(a.data, f"{fold}.base"))
            test = read_fold(os.path.join(a.data, f"{fold}.test"))
            model = fit(train, a.factors, a.epochs, a.lr, a.reg, a.init_mean, a.init_std, seed)
            rmse, mae = evaluate(model, test)
            rmses.append(rmse)
            maes.append(mae)
            print(f"seed {seed} {fold}: RMSE {rmse:.4f} MAE {mae:.4f}", flush=True)
        print(f"seed {seed} mean over {len(rmses)} folds: RMSE {sum(rmses) / len(rmses):.4f} "
              f"MAE {sum(maes) / len(maes):.4f}", flush=True)


if __name__ == "__main__":
    main()
