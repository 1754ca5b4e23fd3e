// Parameters of the `sasrec` algorithm, declared once. Defaults are those of the paper and
// of the PyTorch reference (pmixer/SASRec.pytorch) for MovieLens, except `epochs`, kept
// small so the plugin conformance suite stays fast: scenarios set `epochs = 200`.
#pragma once

#include <string>
#include <vector>

#include "optimizer.hpp"
#include "recfuse/params.hpp"
#include "sampler.hpp"

namespace recfuse::sasrec {

inline std::vector<ParamSpec> sasrec_params() {
  return {
      ParamSpec::integer("maxlen", 50, 1, 4096, "maximum sequence length n (most recent items)"),
      ParamSpec::integer("hidden", 50, 1, 4096, "hidden size d (embedding width)"),
      ParamSpec::integer("blocks", 2, 1, 64, "self-attention blocks b"),
      ParamSpec::integer("heads", 1, 1, 64, "attention heads h (hidden must be divisible by heads)"),
      ParamSpec::real("dropout", 0.2, 0.0, 0.95, "dropout rate (embedding, attention, feed-forward)"),
      ParamSpec::real("lr", 0.001, 0.0, 10.0, "Adam learning rate"),
      ParamSpec::integer("batch", 128, 1, 1 << 20, "sequences (users) per Adam step"),
      ParamSpec::integer("epochs", 20, 0, 1 << 20, "passes over all users (the reference uses 200)"),
      ParamSpec::choice("loss", "bce", {"bce", "ce", "sampled_softmax"},
                        "bce: one sampled negative per position (the paper); ce: full softmax "
                        "cross-entropy; sampled_softmax: softmax over `negatives` sampled items"),
      ParamSpec::integer("negatives", 100, 1, 1 << 20, "negatives per sequence for sampled_softmax"),
      ParamSpec::real("weight_decay", 0.0, 0.0, 10.0, "decoupled weight decay (AdamW); 0 = Adam"),
      ParamSpec::real("clip", 0.0, 0.0, 1e9, "clip the global gradient norm to this; 0 = off"),
      ParamSpec::choice("activation", "relu", {"relu", "gelu"}, "feed-forward activation"),
      ParamSpec::choice("padding", "attend", {"attend", "mask"},
                        "attend: queries attend to the left padding (zero inputs, so keys and "
                        "values are the projection biases), as the PyTorch reference's causal-only "
                        "mask does; mask: padding keys masked, as Kang's TensorFlow code"),
      ParamSpec::integer("early_stopping_patience", 0, 0, 1 << 20,
                         "stop after this many validation checks without a better NDCG@10 and "
                         "keep the best parameters; 0 = off (needs validation data)"),
      ParamSpec::integer("eval_every", 20, 1, 1 << 20, "epochs between validation checks"),
      ParamSpec::boolean("append_validation", true,
                         "at inference, add the user's validation items to the input sequence (in "
                         "time order with the training items) "
                         "and never recommend them (the reference feeds them when predicting "
                         "test items); set false when the scenario evaluates on validation "
                         "(target = \"validation\")"),
  };
}

struct Options {
  Config cfg;
  Idx batch = 128, epochs = 20, negatives = 100, patience = 0, eval_every = 20;
  Loss loss = Loss::kBce;
  AdamOptions adam;
  bool append_validation = true;
};

inline Options parse_options(const ParamSet& p) {
  Options o;
  o.cfg.maxlen = p.get_int("maxlen");
  o.cfg.d = p.get_int("hidden");
  o.cfg.blocks = p.get_int("blocks");
  o.cfg.heads = p.get_int("heads");
  o.cfg.dropout = p.get_float("dropout");
  o.cfg.gelu = p.get_string("activation") == "gelu";
  o.cfg.attend_padding = p.get_string("padding") == "attend";
  if (o.cfg.d % o.cfg.heads != 0)
    throw Error("[sasrec] hidden (" + std::to_string(o.cfg.d) + ") must be divisible by heads (" +
                std::to_string(o.cfg.heads) + ")");
  o.batch = p.get_int("batch");
  o.epochs = p.get_int("epochs");
  o.negatives = p.get_int("negatives");
  o.patience = p.get_int("early_stopping_patience");
  o.eval_every = p.get_int("eval_every");
  const std::string& loss = p.get_string("loss");
  o.loss = loss == "ce" ? Loss::kCe : loss == "sampled_softmax" ? Loss::kSampledSoftmax : Loss::kBce;
  o.adam.lr = p.get_float("lr");
  o.adam.weight_decay = p.get_float("weight_decay");
  o.adam.clip = p.get_float("clip");
  o.append_validation = p.get_bool("append_validation");
  return o;
}

}  // namespace recfuse::sasrec
