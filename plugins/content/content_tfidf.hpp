// Content-based recommender: TF-IDF item profiles over attributes and title
// words, user profiles as the sum of the profiles of the items they chose,
// cosine scoring (Pazzani & Billsus, "Content-based recommendation systems",
// The Adaptive Web 2007, §3; TF-IDF of Salton & Buckley 1988).
//
//   [[algorithms]]
//   name = "content"
//   plugin = "content_tfidf"
//   params = { genre_weight = 1.0, title_weight = 0.5, min_df = 2 }
//
// Terms: the columns of TrainData::item_features (e.g. "genre=Comedy", tf =
// the stored weight) and the lower-cased alphanumeric words of
// TrainData::item_titles (tf = count; year tokens such as "1995" dropped;
// words in fewer than `min_df` items dropped, since they cannot relate two
// items). Item i's profile: x_it = g_t · tf_it · log(N / df_t), g_t =
// genre_weight or title_weight, then L2-normalised. User profile p_u =
// Σ_{i in train(u)} a_ui x_i with a_ui = 1, or (rating_weighting = true on
// explicit data) a_ui = r_ui − mean_u. score(u, i) = cos(p_u, x_i) =
// p_uᵀx_i / ‖p_u‖ (x_i has unit norm): one sparse (items x terms) times
// dense (terms) product per user, O(nnz(X)) per user.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "recfuse/factor_scoring.hpp"
#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

/// Lower-cased alphanumeric words of `title`, dropping 4-digit years (1800-2099).
inline std::vector<std::string> title_tokens(const std::string& title) {
  std::vector<std::string> out;
  std::string w;
  auto flush = [&] {
    const bool year = w.size() == 4 && std::all_of(w.begin(), w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
                      (w.compare(0, 2, "18") == 0 || w.compare(0, 2, "19") == 0 || w.compare(0, 2, "20") == 0);
    if (!w.empty() && !year) out.push_back(w);
    w.clear();
  };
  for (char ch : title) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) w.push_back(static_cast<char>(std::tolower(c)));
    else flush();
  }
  flush();
  return out;
}

class ContentTfidf final : public Recommender {
 public:
  explicit ContentTfidf(const ParamSet& p)
      : genre_weight_(p.get_float("genre_weight")),
        title_weight_(p.get_float("title_weight")),
        min_df_(p.get_int("min_df")),
        rating_weighting_(p.get_bool("rating_weighting")) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::real("genre_weight", 1.0, 0.0, 1e6, "weight of attribute terms (item_features)"),
        ParamSpec::real("title_weight", 0.5, 0.0, 1e6, "weight of title-word terms"),
        ParamSpec::integer("min_df", 2, 1, 1e9, "drop title words found in fewer items"),
        ParamSpec::boolean("rating_weighting", false,
                           "explicit data: weight each item by rating minus the user's mean"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    build_item_profiles(data);
    if (n_terms_ == 0)
      throw Error("content_tfidf: the dataset has no item features and no titles to build profiles from");
    build_user_profiles(data);
    ctx.log("content_tfidf: " + std::to_string(n_terms_) + " terms, " + std::to_string(indices_.size()) +
            " item-term weights");
  }

  /// out: users.size() x n_items; row = X p_u / ‖p_u‖ (0 for empty profiles).
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    const auto T = static_cast<std::size_t>(n_terms_);
#pragma omp parallel for schedule(static) if (users.size() > 8)
    for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(users.size()); ++r) {
      const float* p = profiles_.data() + static_cast<std::size_t>(users[static_cast<std::size_t>(r)]) * T;
      float* dst = out.data() + static_cast<std::size_t>(r) * n;
      for (std::size_t i = 0; i < n; ++i) {
        float s = 0;
        for (std::int64_t q = indptr_[i]; q < indptr_[i + 1]; ++q)
          s += weights_[static_cast<std::size_t>(q)] * p[indices_[static_cast<std::size_t>(q)]];
        dst[i] = s;
      }
    }
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items, std::span<float> out) override {
    const auto T = static_cast<std::size_t>(n_terms_);
    for (std::size_t j = 0; j < items.size(); ++j) {
      const float* p = profiles_.data() + static_cast<std::size_t>(users[j]) * T;
      const auto i = static_cast<std::size_t>(items[j]);
      float s = 0;
      for (std::int64_t q = indptr_[i]; q < indptr_[i + 1]; ++q)
        s += weights_[static_cast<std::size_t>(q)] * p[indices_[static_cast<std::size_t>(q)]];
      out[j] = s;
    }
  }

  std::size_t model_bytes() const override {
    return profiles_.size() * sizeof(float) + weights_.size() * (sizeof(float) + sizeof(std::int32_t)) +
           indptr_.size() * sizeof(std::int64_t);
  }

  /// kCapSaveLoad: the term names (explain reads them), the items' profiles
  /// X as CSR, the users' unit profiles (users x terms).
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    w.value<std::uint64_t>(term_names_.size());
    for (const std::string& t : term_names_) w.text(t);
    w.values(indptr_);
    w.values(indices_);
    w.values(weights_);
    w.matrix(Eigen::Map<const RowMatrixF>(profiles_.data(), n_users(), n_terms_));
  }
  void load(std::istream& in) override {
    ModelReader r(in, "content_tfidf");
    // Each name takes at least its 8-byte length: a corrupt count runs out of file.
    const auto n_terms = r.value<std::uint64_t>("the number of terms");
    std::vector<std::string> names;
    for (std::uint64_t t = 0; t < n_terms; ++t) names.push_back(r.text("a term name"));
    indptr_ = r.values<std::int64_t>("item profile offsets");
    indices_ = r.values<std::int32_t>("item profile terms");
    weights_ = r.values<float>("item profile weights");
    const auto profiles = r.rows_of_width<RowMatrixF>("user profiles", static_cast<std::int64_t>(names.size()));
    r.finish();
    r.expect("the number of item profile weights", static_cast<std::int64_t>(weights_.size()),
             static_cast<std::int64_t>(indices_.size()));
    r.expect_csr(indptr_, indices_, static_cast<std::int64_t>(names.size()), "the item profile offsets",
                 "the item profile terms", "an item profile term",
                 "is not one of the " + std::to_string(names.size()) + " terms");
    term_names_ = std::move(names);
    n_terms_ = static_cast<std::int32_t>(term_names_.size());
    profiles_.assign(profiles.data(), profiles.data() + profiles.size());
    set_shape(static_cast<std::int32_t>(profiles.rows()), static_cast<std::int32_t>(indptr_.size() - 1));
  }

  std::string explain(UserId u, ItemId i) override {
    const float* p = profiles_.data() + static_cast<std::size_t>(u) * static_cast<std::size_t>(n_terms_);
    std::int32_t best = -1;
    float best_v = 0;
    for (std::int64_t q = indptr_[i]; q < indptr_[i + 1]; ++q) {
      const float v = weights_[static_cast<std::size_t>(q)] * p[indices_[static_cast<std::size_t>(q)]];
      if (v > best_v) { best_v = v; best = indices_[static_cast<std::size_t>(q)]; }
    }
    return best < 0 ? std::string() : "shares '" + term_names_[static_cast<std::size_t>(best)] + "' with your history";
  }

  std::int32_t n_terms() const { return n_terms_; }
  /// Item i's normalised profile as (term, weight) pairs.
  std::vector<std::pair<std::string, float>> item_profile(ItemId i) const {
    std::vector<std::pair<std::string, float>> out;
    for (std::int64_t q = indptr_[i]; q < indptr_[i + 1]; ++q)
      out.emplace_back(term_names_[static_cast<std::size_t>(indices_[static_cast<std::size_t>(q)])], weights_[static_cast<std::size_t>(q)]);
    return out;
  }

 private:
  void build_item_profiles(const TrainData& data);
  void build_user_profiles(const TrainData& data);

  double genre_weight_, title_weight_;
  std::int64_t min_df_;
  bool rating_weighting_;
  std::int32_t n_terms_ = 0;
  std::vector<std::string> term_names_;
  std::vector<std::int64_t> indptr_;    // items x terms CSR, unit-norm rows
  std::vector<std::int32_t> indices_;
  std::vector<float> weights_;
  std::vector<float> profiles_;         // n_users x n_terms, unit norm (or 0)
};

inline void ContentTfidf::build_item_profiles(const TrainData& data) {
  const auto N = static_cast<std::size_t>(data.n_items);
  const AttributeMatrix& f = data.item_features;
  const bool has_features = f.matrix.rows == data.n_items && f.matrix.nnz() > 0 && genre_weight_ > 0;
  const std::int32_t n_attr = has_features ? f.matrix.cols : 0;
  // Title vocabulary: word -> (term id, df); ids assigned in sorted order.
  std::vector<std::vector<std::string>> words(N);
  std::map<std::string, std::int64_t> df;
  if (data.item_titles.size() == N && title_weight_ > 0)
    for (std::size_t i = 0; i < N; ++i) {
      words[i] = title_tokens(data.item_titles[i]);
      std::vector<std::string> uniq = words[i];
      std::sort(uniq.begin(), uniq.end());
      uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
      for (const auto& w : uniq) ++df[w];
    }
  term_names_.clear();
  for (std::int32_t a = 0; a < n_attr; ++a)
    term_names_.push_back(a < static_cast<std::int32_t>(f.names.size()) ? f.names[static_cast<std::size_t>(a)] : "attr" + std::to_string(a));
  std::map<std::string, std::int32_t> word_id;
  for (const auto& [w, c] : df)
    if (c >= min_df_) { word_id[w] = static_cast<std::int32_t>(term_names_.size()); term_names_.push_back("title:" + w); }
  n_terms_ = static_cast<std::int32_t>(term_names_.size());
  std::vector<double> term_df(term_names_.size(), 0.0);
  for (std::int32_t a = 0; a < n_attr; ++a) term_df[static_cast<std::size_t>(a)] = 0;
  if (has_features)
    for (std::int32_t idx : f.matrix.indices) term_df[static_cast<std::size_t>(idx)] += 1;
  for (const auto& [w, id] : word_id) term_df[static_cast<std::size_t>(id)] = static_cast<double>(df[w]);

  indptr_.assign(1, 0);
  indices_.clear();
  weights_.clear();
  std::map<std::int32_t, double> row;
  for (std::size_t i = 0; i < N; ++i) {
    row.clear();
    if (has_features)
      for (std::int64_t q = f.matrix.indptr[i]; q < f.matrix.indptr[i + 1]; ++q)
        row[f.matrix.indices[static_cast<std::size_t>(q)]] += genre_weight_ * (f.matrix.values.empty() ? 1.0 : f.matrix.values[static_cast<std::size_t>(q)]);
    for (const auto& w : words[i]) {
      auto it = word_id.find(w);
      if (it != word_id.end()) row[it->second] += title_weight_;
    }
    double norm = 0;
    for (auto& [t, v] : row) {
      v *= std::log(static_cast<double>(N) / std::max(1.0, term_df[static_cast<std::size_t>(t)]));
      norm += v * v;
    }
    norm = std::sqrt(norm);
    for (const auto& [t, v] : row)
      if (v != 0 && norm > 0) { indices_.push_back(t); weights_.push_back(static_cast<float>(v / norm)); }
    indptr_.push_back(static_cast<std::int64_t>(indices_.size()));
  }
}

inline void ContentTfidf::build_user_profiles(const TrainData& data) {
  const auto T = static_cast<std::size_t>(n_terms_);
  profiles_.assign(static_cast<std::size_t>(data.n_users) * T, 0.0f);
  const CsrMatrix& m = data.by_user;
  const bool weighted = rating_weighting_ && data.explicit_ratings && !m.values.empty();
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int32_t u = 0; u < data.n_users; ++u) {
    float* p = profiles_.data() + static_cast<std::size_t>(u) * T;
    double mean = 0;
    if (weighted && m.row_size(u) > 0) {
      for (float v : m.row_values(u)) mean += v;
      mean /= static_cast<double>(m.row_size(u));
    }
    for (std::int64_t k = m.indptr[u]; k < m.indptr[u + 1]; ++k) {
      const auto i = static_cast<std::size_t>(m.indices[static_cast<std::size_t>(k)]);
      const auto a = static_cast<float>(weighted ? m.values[static_cast<std::size_t>(k)] - mean : 1.0);
      for (std::int64_t q = indptr_[i]; q < indptr_[i + 1]; ++q)
        p[indices_[static_cast<std::size_t>(q)]] += a * weights_[static_cast<std::size_t>(q)];
    }
    double norm = 0;
    for (std::size_t t = 0; t < T; ++t) norm += static_cast<double>(p[t]) * p[t];
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (std::size_t t = 0; t < T; ++t) p[t] *= inv;
    }
  }
}

}  // namespace recfuse
