// Parameters, feature layout and the training loop of the factorization
// machine (fm.hpp documents the model and cites the papers).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

struct FmOptions {
  int factors = 32, epochs = 30, negatives = 1;
  double lr = 0.05, reg = 1e-3, init_std = 0.05;
  bool bpr = true, adam = false, item_features = true, user_features = true;
};

inline std::vector<ParamSpec> fm_params() {
  return {
      ParamSpec::integer("factors", 32, 1, 4096, "dimension k of the feature embeddings v_j"),
      ParamSpec::integer("epochs", 30, 0, 100000, "passes over the training interactions"),
      ParamSpec::real("lr", 0.05, 0.0, 10.0, "learning rate"),
      ParamSpec::real("reg", 1e-3, 0.0, 1e6, "L2 penalty on w and V, applied to the touched rows"),
      ParamSpec::integer("negatives", 1, 1, 1000, "sampled negatives per training interaction"),
      ParamSpec::choice("loss", "bpr", {"bpr", "logistic"}, "pairwise BPR or pointwise logistic"),
      ParamSpec::choice("optimizer", "sgd", {"sgd", "adam"}, "plain SGD or (lazy) Adam"),
      ParamSpec::real("init_std", 0.05, 0.0, 10.0, "std of the normal initialisation of V"),
      ParamSpec::boolean("item_features", true, "use TrainData::item_features (genres)"),
      ParamSpec::boolean("user_features", true, "use TrainData::user_features (demographics)"),
  };
}

inline FmOptions fm_options(const ParamSet& p) {
  FmOptions o;
  o.factors = static_cast<int>(p.get_int("factors"));
  o.epochs = static_cast<int>(p.get_int("epochs"));
  o.lr = p.get_float("lr");
  o.reg = p.get_float("reg");
  o.negatives = static_cast<int>(p.get_int("negatives"));
  o.bpr = p.get_string("loss") == "bpr";
  o.adam = p.get_string("optimizer") == "adam";
  o.init_std = p.get_float("init_std");
  o.item_features = p.get_bool("item_features");
  o.user_features = p.get_bool("user_features");
  return o;
}

/// Sparse rows of active features (index into w / V, value x_j).
struct FeatureRows {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> index;
  std::vector<float> value;
  std::span<const std::int32_t> idx(std::size_t r) const {
    return {index.data() + indptr[r], static_cast<std::size_t>(indptr[r + 1] - indptr[r])};
  }
  std::span<const float> val(std::size_t r) const {
    return {value.data() + indptr[r], static_cast<std::size_t>(indptr[r + 1] - indptr[r])};
  }
};

struct FmModel {
  int k = 0;
  double w0 = 0;
  std::vector<float> w;   // n_features
  RowMatrixF V;           // n_features x k
  FeatureRows user_x, item_x;

  void init(const TrainData& d, const FmOptions& o) {
    k = o.factors;
    const AttributeMatrix& ia = d.item_features;
    const AttributeMatrix& ua = d.user_features;
    const bool use_i = o.item_features && ia.matrix.rows == d.n_items && ia.matrix.nnz() > 0;
    const bool use_u = o.user_features && ua.matrix.rows == d.n_users && ua.matrix.nnz() > 0;
    const std::int32_t item_attr0 = d.n_users + d.n_items;
    const std::int32_t user_attr0 = item_attr0 + (use_i ? ia.matrix.cols : 0);
    const std::int32_t n_features = user_attr0 + (use_u ? ua.matrix.cols : 0);
    user_x = item_x = FeatureRows{};
    for (UserId u = 0; u < d.n_users; ++u) {
      user_x.index.push_back(u);
      user_x.value.push_back(1.0f);
      if (use_u)
        for (std::int64_t q = ua.matrix.indptr[u]; q < ua.matrix.indptr[u + 1]; ++q) {
          user_x.index.push_back(user_attr0 + ua.matrix.indices[static_cast<std::size_t>(q)]);
          user_x.value.push_back(ua.matrix.values.empty() ? 1.0f : ua.matrix.values[static_cast<std::size_t>(q)]);
        }
      user_x.indptr.push_back(static_cast<std::int64_t>(user_x.index.size()));
    }
    for (ItemId i = 0; i < d.n_items; ++i) {
      item_x.index.push_back(d.n_users + i);
      item_x.value.push_back(1.0f);
      if (use_i) {
        double total = 0;
        for (std::int64_t q = ia.matrix.indptr[i]; q < ia.matrix.indptr[i + 1]; ++q)
          total += ia.matrix.values.empty() ? 1.0 : ia.matrix.values[static_cast<std::size_t>(q)];
        for (std::int64_t q = ia.matrix.indptr[i]; q < ia.matrix.indptr[i + 1]; ++q) {
          const double v = ia.matrix.values.empty() ? 1.0 : ia.matrix.values[static_cast<std::size_t>(q)];
          item_x.index.push_back(item_attr0 + ia.matrix.indices[static_cast<std::size_t>(q)]);
          item_x.value.push_back(total > 0 ? static_cast<float>(v / total) : 0.0f);
        }
      }
      item_x.indptr.push_back(static_cast<std::int64_t>(item_x.index.size()));
    }
    w0 = 0;
    w.assign(static_cast<std::size_t>(n_features), 0.0f);
    V.resize(n_features, k);
  }

  /// v_S = Σ x_j v_j and the part of ŷ inside S: Σ w_j x_j + ½(‖v_S‖² − Σ x_j² ‖v_j‖²).
  double side(std::span<const std::int32_t> idx, std::span<const float> val, float* v_sum) const {
    std::fill(v_sum, v_sum + k, 0.0f);
    double lin = 0, self = 0;
    for (std::size_t q = 0; q < idx.size(); ++q) {
      const auto row = V.row(idx[q]);
      lin += static_cast<double>(w[static_cast<std::size_t>(idx[q])]) * val[q];
      self += static_cast<double>(val[q]) * val[q] * row.squaredNorm();
      for (int f = 0; f < k; ++f) v_sum[f] += val[q] * row(f);
    }
    double sq = 0;
    for (int f = 0; f < k; ++f) sq += static_cast<double>(v_sum[f]) * v_sum[f];
    return lin + 0.5 * (sq - self);
  }

  /// ŷ(u,i) by eq. 1: every pair of active features, no reformulation.
  double naive(UserId u, ItemId i) const {
    std::vector<std::int32_t> idx;
    std::vector<float> val;
    for (std::size_t q = 0; q < user_x.idx(static_cast<std::size_t>(u)).size(); ++q) {
      idx.push_back(user_x.idx(static_cast<std::size_t>(u))[q]); val.push_back(user_x.val(static_cast<std::size_t>(u))[q]);
    }
    for (std::size_t q = 0; q < item_x.idx(static_cast<std::size_t>(i)).size(); ++q) {
      idx.push_back(item_x.idx(static_cast<std::size_t>(i))[q]); val.push_back(item_x.val(static_cast<std::size_t>(i))[q]);
    }
    double y = w0;
    for (std::size_t a = 0; a < idx.size(); ++a) {
      y += static_cast<double>(w[static_cast<std::size_t>(idx[a])]) * val[a];
      for (std::size_t b = a + 1; b < idx.size(); ++b)
        y += static_cast<double>(V.row(idx[a]).cast<double>().dot(V.row(idx[b]).cast<double>())) * val[a] * val[b];
    }
    return y;
  }

  void precompute(RowMatrixF& user_emb, std::vector<float>& user_const, RowMatrixF& item_emb,
                  std::vector<float>& item_bias) const {
    const auto nu = static_cast<Eigen::Index>(user_x.indptr.size() - 1);
    const auto ni = static_cast<Eigen::Index>(item_x.indptr.size() - 1);
    user_emb.resize(nu, k);
    item_emb.resize(ni, k);
    user_const.resize(static_cast<std::size_t>(nu));
    item_bias.resize(static_cast<std::size_t>(ni));
    for (Eigen::Index u = 0; u < nu; ++u)
      user_const[static_cast<std::size_t>(u)] = static_cast<float>(
          w0 + side(user_x.idx(static_cast<std::size_t>(u)), user_x.val(static_cast<std::size_t>(u)), user_emb.row(u).data()));
    for (Eigen::Index i = 0; i < ni; ++i)
      item_bias[static_cast<std::size_t>(i)] = static_cast<float>(
          side(item_x.idx(static_cast<std::size_t>(i)), item_x.val(static_cast<std::size_t>(i)), item_emb.row(i).data()));
  }
};

}  // namespace recfuse

#include "fm_sgd.hpp"
