// The trial record: one JSON object per trial, written atomically by the
// trial process (and completed by the parent with the kernel's view of the
// process) and read by the reporters. The shape (numbers are plain JSON
// numbers, NaN written as null; report.json fixes the key order):
//
// {
//   "record_version": 1,
//   "trial_id": "9f3a1c0d2b4e5f60", "index": 3,
//   "algorithm": "itemknn",            // label from the scenario (+ grid suffix)
//   "plugin": "item_knn",
//   "plugin_library": "knn", "plugin_file": ".../librecfuse_knn.so",
//   "plugin_version": "1.0.0", "plugin_fingerprint": "cc=...",
//   "provenance": {"recfuse": "0.1.0 source:<16 hex> Release GNU 12.2.0 -O3 -DNDEBUG",
//                  "plugins": {"knn": "1.0.0 sha256:<16 hex>"},
//                  "data": "sha256:<16 hex>"},  // resume matches it (no "data": synthetic)
//   "params": {"neighbors": 50, "similarity": "cosine", ...},   // validated, complete
//   "seed": 1, "fold": "u1", "threads": 2,
//   "status": "ok",                    // ok | failed | timeout | crashed
//   "error": "",                       // message when status != ok
//   "dataset": {"name": "ml-100k", "sha256": "...", "users": 943, "items": 1682,
//               "interactions": 100000, "skipped_rows": 0, "split": "leave_last_one_out",
//               "train": 98114, "validation": 943, "test": 943, "test_users": 943,
//               "test_sha256": "<16 hex>",  // the evaluated set: seeds sharing it pool in reports
//               "fit_sha256": "<16 hex>"},  // what the algorithm fitted on: with --save-models,
//                                           // --load-models or --fit-cache only (a model file is
//                                           // matched by it)
//   "metrics": {                       // every mean with its bootstrap 95% CI
//     "ndcg@10": {"mean": 0.04, "low": 0.03, "high": 0.05, "n": 943}, ...
//     "coverage@10": {"mean": 0.31},   // catalogue-level: mean only
//     "rmse": {"mean": 0.94, "low": ..., "high": ..., "n": 20000}
//   },
//   "per_user": {"users": [0, 1, ...], "history": [31, 20, ...],  // training counts
//                "ndcg@10": [...], ...,                            // aligned with users
//                "items:head/ndcg@10": [...], ...,   // null where the user has no
//                                                    // relevant item in the segment
//                "rating_users": [0, 1, 4, ...],  // rating predictors: every user with a
//                "rating_n": [20, 3, 1, ...],     // test rating (not "users": those with a
//                "rating_sse": [14.2, 2.1, ...],  // relevant one), its test ratings and the
//                "rating_sae": [15.0, 2.3, ...]}, // sums of their squared (rmse) and absolute
//                  // (mae) errors, each only with its metric (null: not finite); the
//                  // reports pair rmse and mae per user on them (reports/comparisons.cpp)
//   "segments": {"users:cold": {"n": 0, "ndcg@10": {...}, ...}, "users:q1": ...,
//                "users:q4": ..., "items:head": ..., "items:tail": ...},
//   "segment_definition": {"cold_user_max": 5, "history_quartile_edges": [31, 63, 146],
//                          "head_fraction": 0.2, "head_min_popularity": 97,
//                          "head_items": 338},
//   "model_tree": {"name", "plugin", "plugin_version", "params", "fit_wall_s",
//                  "fit_cpu_s", "children": [...]},   // fusion strategies only; a
//                  // loaded one (--load-models) has no fit times
//   "diagnostics": {"retrieval_recall@100": 0.61, ...},  // plugin-reported, optional
//   "explanations": [{"user": 0, "user_id": "1",  // [evaluation] explain_users > 0
//                     "items": [{"item": 49, "item_id": "50", "title": "Star Wars (1977)",
//                                "score": 0.83, "hit": true,
//                                "reason": "because you interacted with ..."}, ...]}, ...],
//                  // the first explain_users evaluated users by id, each with the first
//                  // min(10, largest cutoff) items of the list the evaluator scored;
//                  // "title" when the dataset has one; "hit": a relevant evaluated item;
//                  // "reason" only from a plugin that declares explain (explanations.hpp)
//   "explanations_note": "popularity does not declare explain: lists shown without reasons",
//                  // why the lists have no reasons (or there are none); absent otherwise
//   "saved_model": {"file": ".../models/<trial_id>.model", "bytes": 1234},  // --save-models;
//                  // or {"skipped": why} / {"error": why} (runner/saved_models.hpp; a
//                  // fusion child that cannot be saved: "model not saved: [stacking] child ...")
//   "loaded_model": {"file", "bytes", "saved_trial_id", "saved_plugin_fingerprint"},
//                  // --load-models: read, not fitted (no fit times, "load_model_s");
//                  // or {"skipped": why} when the trial fitted its model (why: the
//                  // algorithm, or which child of it, does not declare save/load)
//   "fit_cache": {"dir", "read": ["ease", ...], "stored": [...], "errors": [...],
//                 "waited_s": 0.0},
//                  // --fit-cache (runner/fit_cache.hpp): the nodes of the tree read
//                  // from the cache (fit times are then the reads', and any wait for
//                  // another trial's fit of the node) and kept in it; each node of
//                  // "model_tree" notes its own {"read", "waited_s"} or {"stored",
//                  // "bytes", "children_spliced"}
//   "timing": {"load_s": 0.1, "split_s": 0.01, "fit_wall_s": 1.2, "fit_cpu_s": 2.3,
//              "eval_wall_s": 0.8, "trial_wall_s": 2.5,
//              "explain_s": 0.01,  // explanations, after (and outside) every timed figure
//              "latency_ms": {"p50": 0.2, "p95": 0.3, "p99": 0.5, "max": 1.1,
//                             "mean": 0.21, "n": 943},
//              "batch_s": 0.05, "throughput_users_per_s": 18000},
//   "resources": {"peak_rss_bytes": 123456789,  // the trial process's own peak (VmHWM);
//                 "model_bytes": 4567890},       // from wait4 if it wrote no record
//   // online and off_policy trials (runner/online.cpp) have, in place of the
//   // split fields and the offline metrics:
//   "environment": {"plugin": "calibrated", "library": "calibrated", "version": "1.1.0",
//                   "users": 943, "items": 1682, "slate_size": 10, "candidates": 50,
//                   "max_steps": 20, "params": {...},   // validated, complete
//                   ...},                              // + the environment's diagnostics
//   "dataset": {"name", "sha256", "users", "items", "interactions"},  // a world fitted to data
//   "logs": {"policy": "uniform", "episodes": 1000, "batch": 256, "steps": 9120,
//            "clicks": 4120, "mean_return": 2.1,
//            "epsilon": 0.2, "temperature": 1.0,  // only where the logging policy reads them
//            "fit_sha256": "<16 hex>"},  // what learners saw of the logs (log_fit_fingerprint):
//                                        // with --save-models, --load-models or --fit-cache only
//   "learning_curve": {"window": 300, "return": [...]},   // online
//   "off_policy": {"estimand", "first_steps", "steps_with_weight", "overlap", "clipped",
//                  "propensity", "weight_cap"},           // off_policy
//   "log": "<output>/logs/<trial_id>.log",
//   "progress": ["epoch 1 loss 0.3", ...],
//   "started_at": "2026-11-28T20:40:00Z"
// }
#pragma once

namespace recfuse {
inline constexpr int kRecordVersion = 1;
}  // namespace recfuse
