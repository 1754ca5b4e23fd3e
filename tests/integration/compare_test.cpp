// `recfuse compare`: paired per-user deltas between two runs and an exit
// status that gates CI on a significant regression.
#include <catch2/catch.hpp>

#include "run_cli.hpp"
#include "test_support.hpp"

using namespace recfuse::test;

namespace {

std::string scenario(const std::string& plugin) {
  return "name = \"cmp\"\nseeds = [1]\nthreads = 1\n[dataset]\nformat = \"synthetic\"\n"
         "[dataset.synthetic]\nusers = 200\nitems = 100\ninteractions_per_user = 20\n"
         "[split]\nmethod = \"leave_last_one_out\"\n[evaluation]\ncutoffs = [10]\n"
         "bootstrap = 200\n[[algorithms]]\nname = \"model\"\nplugin = \"" + plugin + "\"\n";
}

}  // namespace

TEST_CASE("compare finds no regression between identical runs and flags a real one") {
  const auto dir = temp_dir("compare");
  const auto good = write_text(dir, "good.toml", scenario("user_knn"));
  const auto bad = write_text(dir, "bad.toml", scenario("random"));
  REQUIRE(run_recfuse("run " + good.string() + " -o " + (dir / "a").string() + " -q --no-cache")
              .exit_code == 0);
  REQUIRE(run_recfuse("run " + good.string() + " -o " + (dir / "b").string() + " -q --no-cache")
              .exit_code == 0);
  REQUIRE(run_recfuse("run " + bad.string() + " -o " + (dir / "c").string() + " -q --no-cache")
              .exit_code == 0);

  auto r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "b").string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("| model | ndcg@10 |") && Catch::Contains("paired_users") &&
                           Catch::Contains("0 regression(s)"));

  r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "c").string());
  INFO(r.output);
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.output, Catch::Contains("REGRESSION") && Catch::Contains("1 regression(s)"));

  // The other way round it is an improvement, not a regression.
  r = run_recfuse("compare " + (dir / "c" / "report.json").string() + " " + (dir / "a").string());
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("better"));

  r = run_recfuse("compare " + (dir / "a").string() + " " + (dir / "missing").string());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("missing"));
}
