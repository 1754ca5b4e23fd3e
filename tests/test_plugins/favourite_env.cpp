// `test_favourite`: a tiny environment with a known answer, for the runner's
// online and off-policy tests. User u's favourite item is u % n_items. A
// slate containing it is clicked at that position with reward 1; otherwise
// no click, reward 0. Every session lasts exactly `steps` steps
// (truncated); the candidates of a step are items (t + j) % n_items,
// j < num_candidates, for the step t, so the favourite is offered when
// (u - t) mod n_items < num_candidates. The myopic oracle puts the
// favourite first when it is offered. With `tiring`, a click tires the user
// for the rest of the session (the favourite is not clicked again): a world
// with state, where what a policy shows changes what it earns later.
#include <recfuse/plugin.hpp>
#include <recfuse/rng.hpp>

namespace {
using namespace recfuse;

class Favourite final : public Environment {
 public:
  explicit Favourite(const ParamSet& p)
      : users_(static_cast<std::int32_t>(p.get_int("users"))),
        items_(static_cast<std::int32_t>(p.get_int("items"))),
        candidates_(static_cast<int>(p.get_int("candidates"))),
        steps_(static_cast<int>(p.get_int("steps"))),
        tiring_(p.get_bool("tiring")) {}

  void build(const WorldContext&) override {
    set_shape(users_, items_, 2, candidates_, steps_);
    features_.matrix.rows = items_;
    features_.matrix.cols = 1;
    for (std::int32_t i = 0; i < items_; ++i) {  // one feature: the item's parity
      if (i % 2) features_.matrix.indices.push_back(0), features_.matrix.values.push_back(1.0f);
      features_.matrix.indptr.push_back(static_cast<std::int64_t>(features_.matrix.indices.size()));
    }
    features_.names = {"odd"};
  }
  const AttributeMatrix& item_features() const override { return features_; }

  void reset(std::uint64_t seed, int n) override {
    Rng rng(derive_seed(seed, "users"));
    session_users_.resize(static_cast<std::size_t>(n));
    for (auto& u : session_users_) u = static_cast<UserId>(rng.below(static_cast<std::uint64_t>(users_)));
    t_ = 0;
    done_.assign(static_cast<std::size_t>(n), 0);
    tired_.assign(static_cast<std::size_t>(n), 0);
    fill_candidates();
  }
  std::span<const UserId> users() const override { return session_users_; }
  std::span<const ItemId> candidates() const override { return candidates_now_; }

  void step(std::span<const ItemId> slates, StepOutcome& out) override {
    out.resize(session_users_.size());
    for (std::size_t r = 0; r < session_users_.size(); ++r) {
      if (done_[r]) {
        out.truncated[r] = 1;
        continue;
      }
      const ItemId fav = session_users_[r] % items_;
      for (int j = 0; j < 2 && !tired_[r]; ++j)
        if (slates[r * 2 + static_cast<std::size_t>(j)] == fav) out.choice[r] = j;
      if (tiring_ && out.choice[r] >= 0) tired_[r] = 1;
      out.reward[r] = out.engagement[r] = out.choice[r] >= 0 ? 1.0f : 0.0f;
      if (t_ + 1 >= steps_) done_[r] = out.truncated[r] = 1;
    }
    ++t_;
    fill_candidates();
  }

  bool oracle_slates(std::span<ItemId> slates) override {
    for (std::size_t r = 0; r < session_users_.size(); ++r) {
      const ItemId* c = candidates_now_.data() + r * static_cast<std::size_t>(candidates_);
      const ItemId fav = session_users_[r] % items_;
      const bool offered = std::find(c, c + candidates_, fav) != c + candidates_;
      slates[r * 2] = offered ? fav : c[0];
      slates[r * 2 + 1] = c[0] == slates[r * 2] ? c[1] : c[0];
    }
    return true;
  }

 private:
  void fill_candidates() {
    candidates_now_.resize(session_users_.size() * static_cast<std::size_t>(candidates_));
    for (std::size_t r = 0; r < session_users_.size(); ++r)
      for (int j = 0; j < candidates_; ++j)
        candidates_now_[r * static_cast<std::size_t>(candidates_) + static_cast<std::size_t>(j)] =
            static_cast<ItemId>((t_ + j) % items_);
  }

  std::int32_t users_, items_;
  int candidates_, steps_;
  bool tiring_;
  int t_ = 0;
  AttributeMatrix features_;
  std::vector<UserId> session_users_;
  std::vector<ItemId> candidates_now_;
  std::vector<std::uint8_t> done_, tired_;
};

std::vector<ParamSpec> favourite_params() {
  return {ParamSpec::integer("users", 12, 1, 1000000, "population"),
          ParamSpec::integer("items", 6, 3, 1000000, "catalogue"),
          ParamSpec::integer("candidates", 3, 2, 1000000, "candidates per step (<= items)"),
          ParamSpec::integer("steps", 4, 1, 1000, "steps per session"),
          ParamSpec::boolean("tiring", false, "a click ends the user's clicks for the rest of the session")};
}
std::unique_ptr<Environment> make_favourite(const ParamSet& p) { return std::make_unique<Favourite>(p); }

const PluginDescriptor* describe() {
  static const EnvironmentDescriptor envs[] = {
      {"test_favourite", "each user clicks their favourite item", &favourite_params, &make_favourite}};
  static const PluginDescriptor d =
      make_environment_descriptor("test_favourite_env", "1.0.0", "a tiny known-answer environment", envs);
  return &d;
}
}  // namespace

RECFUSE_PLUGIN(describe)
