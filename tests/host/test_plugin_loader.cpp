// The plugin loader against the deliberately broken libraries in
// tests/test_plugins: each failure names the file and the reason.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include <boost/dll/shared_library.hpp>

#include "host/params_validation.hpp"
#include "host/plugin_loader.hpp"
#include "test_support.hpp"

using namespace recfuse;
using Catch::Contains;

namespace {

std::filesystem::path bad(const std::string& name) {
  return test::bad_plugin_dir() / ("librecfuse_test_" + name + ".so");
}

void require_load_error(const std::string& name, const std::string& reason) {
  const std::string file = bad(name).string();
  REQUIRE_THROWS_WITH(load_plugin(bad(name)), Contains(file + ": ") && Contains(reason));
}

}  // namespace

TEST_CASE("load_plugin reads a good plugin's descriptor", "[host]") {
  auto p = load_plugin(bad("good"));
  REQUIRE(p->descriptor != nullptr);
  CHECK(p->file == bad("good"));
  CHECK(std::string(p->descriptor->name) == "test_good");
  CHECK(std::string(p->descriptor->version) == "1.2.3");
  CHECK(std::string(p->descriptor->fingerprint) == kBuildFingerprint);
  REQUIRE(p->descriptor->algorithms.size() == 1);
  CHECK(std::string(p->descriptor->algorithms[0].name) == "test_good");
  CHECK(p->descriptor->algorithms[0].params().size() == 2);
}

TEST_CASE("load_plugin: each broken library gives its own clear error", "[host]") {
  require_load_error("does_not_exist", "no such plugin file");
  require_load_error("no_symbol", "not a recfuse plugin: no symbol 'recfuse_plugin'");
  require_load_error("unresolved", "cannot load: ");
  require_load_error("unresolved", "recfuse_test_function_that_does_not_exist");
  require_load_error("wrong_abi", "ABI version " + std::to_string(kAbiVersion + 1000) +
                                      " does not match host ABI version " +
                                      std::to_string(kAbiVersion) +
                                      "; rebuild the plugin against this recfuse SDK");
  require_load_error("wrong_fingerprint", "cc=clang 99;std=202302L");
  require_load_error("wrong_fingerprint", std::string("host '") + kBuildFingerprint + "'");
  require_load_error("null_describe", "returned no descriptor");
  require_load_error("throws_describe", "boom in describe");
  require_load_error("no_algorithms", "declares no algorithms");
  require_load_error("no_name", "has no library name");
  require_load_error("duplicate_name", "algorithm 'test_twice' is declared twice");
}

TEST_CASE("load_plugin accepts the plugins that only fail later", "[host]") {
  // The runner's crash and time-limit tests rely on these loading cleanly.
  for (const char* name : {"throws", "throws_factory", "segfault", "slow"}) {
    INFO(name);
    auto p = load_plugin(bad(name));
    CHECK(std::string(p->descriptor->algorithms[0].name) == std::string("test_") + name);
  }
}

TEST_CASE("create_recommender rethrows a factory's error naming file and algorithm", "[host]") {
  PluginRegistry reg;
  reg.add(bad("throws_factory"));
  const auto handle = reg.find("test_throws_factory");
  REQUIRE_THROWS_WITH(create_recommender(handle, ParamSet{}),
                      Contains(bad("throws_factory").string() +
                               ": algorithm 'test_throws_factory': boom in factory"));
}

TEST_CASE("an error thrown by fit crosses the boundary as recfuse::Error", "[host]") {
  PluginRegistry reg;
  reg.add(bad("throws"));
  auto rec = create_recommender(reg.find("test_throws"), ParamSet{});
  TrainData data;
  REQUIRE_THROWS_AS(rec->fit(data, FitContext{}), Error);
  REQUIRE_THROWS_WITH(rec->fit(data, FitContext{}), "boom in fit");
}

TEST_CASE("objects keep their library loaded after registry and handles are gone", "[host]") {
  RecommenderPtr rec;
  {
    PluginRegistry reg;
    reg.add(bad("good"));
    const auto handle = reg.find("test_good");
    const auto& algo = *handle.algorithm;
    ParamSet params = validate_params(algo.params(), {{"n", std::int64_t{7}}}, {}, "", "");
    rec = create_recommender(handle, params);
  }
  // Only `rec` refers to the library now; calling into it must still work.
  TrainData data;
  data.n_users = 2;
  data.n_items = 5;
  rec->fit(data, FitContext{});
  CHECK(rec->model_bytes() == 7);
  std::vector<float> out(10);
  const std::vector<UserId> users{0, 1};
  rec->score_all(users, out);
  CHECK(out == std::vector<float>{0, 1, 0, 1, 0, 0, 1, 0, 1, 0});
  rec.reset();  // unloads after the destructor ran: must not crash
}

TEST_CASE("scan loads good plugins and records the broken ones", "[host]") {
  PluginRegistry reg;
  reg.scan({test::bad_plugin_dir(), test::bad_plugin_dir() / "missing_dir"});
  CHECK(reg.contains("test_good"));
  CHECK(reg.contains("test_slow"));
  CHECK_FALSE(reg.contains("test_wrong_abi"));
  // wrong_abi, wrong_fingerprint, no_symbol, unresolved, null_describe,
  // throws_describe, no_algorithms, no_name, duplicate_name, good_twin,
  // name_twin, throws_params, bad_default and no_description fail.
  CHECK(reg.errors().size() == 14);
  bool twin_reported = false;
  for (const auto& e : reg.errors()) {
    if (e.find("librecfuse_test_good_twin.so: algorithm 'test_good' is already provided by") !=
            std::string::npos &&
        e.find("librecfuse_test_good.so") != std::string::npos) {
      twin_reported = true;
    }
  }
  CHECK(twin_reported);
  // Sorted scan: good is loaded before good_twin, so good owns the name.
  CHECK(reg.find("test_good").plugin->file.filename() == "librecfuse_test_good.so");
  // bad_slate, good, mean_fusion, params_once, segfault, slow, throws, throws_explain, throws_factory
  CHECK(reg.algorithms().size() == 9);
}

TEST_CASE("find suggests the closest algorithm name", "[host]") {
  PluginRegistry reg;
  reg.add(bad("good"));
  reg.add(bad("slow"));
  REQUIRE_THROWS_WITH(reg.find("test_god"),
                      "unknown plugin 'test_god'; did you mean 'test_good'? known: test_good, "
                      "test_slow");
  REQUIRE_THROWS_WITH(reg.find("zzz"), "unknown plugin 'zzz'; known: test_good, test_slow");
  PluginRegistry empty;
  REQUIRE_THROWS_WITH(empty.find("x"), Contains("no plugins are loaded"));
}

TEST_CASE("add refuses an algorithm or library name another library already has", "[host]") {
  PluginRegistry reg;
  reg.add(bad("good"));
  REQUIRE_THROWS_WITH(reg.add(bad("good_twin")),
                      Contains(bad("good_twin").string() + ": algorithm 'test_good' is already "
                               "provided by " + bad("good").string()));
  CHECK(reg.plugins().size() == 1);
  // A library of another algorithm under a name another library has: a
  // record names the libraries it loaded by name, so one name is one file.
  REQUIRE_THROWS_WITH(reg.add(bad("name_twin")),
                      Contains(bad("name_twin").string() + ": plugin library name 'test_good' is already taken by " +
                               bad("good").string()));
  CHECK_FALSE(reg.contains("test_name_twin"));
}

TEST_CASE("plugin_search_path: next to the binary, then --plugin-path, then the environment",
          "[host]") {
  ::setenv("RECFUSE_PLUGIN_PATH", "/env/a::/env/b", 1);
  const auto dirs = plugin_search_path("/opt/x/bin/recfuse", {"/cli/one:/cli/two", "/cli/three"});
  ::unsetenv("RECFUSE_PLUGIN_PATH");
  const std::vector<std::filesystem::path> expected{"/opt/x/lib/recfuse/plugins", "/cli/one",
                                                    "/cli/two", "/cli/three", "/env/a", "/env/b"};
  CHECK(dirs == expected);
}

TEST_CASE("load_plugin: a file that is not a shared library, scan's file filter", "[host]") {
  const auto dir = test::temp_dir("plugins");
  const auto garbage = dir / "librecfuse_garbage.so";
  // Longer than an ELF header, so dlopen reads it and rejects the magic.
  std::ofstream(garbage) << std::string(256, 'x');
  std::ofstream(dir / "notes.txt") << "ignored\n";
  std::ofstream(dir / "libother.so") << "ignored: no librecfuse_ prefix\n";
  REQUIRE_THROWS_WITH(load_plugin(garbage),
                      Contains(garbage.string() + ": cannot load: ") && Contains("ELF"));
  PluginRegistry reg;
  reg.scan({dir});
  REQUIRE(reg.errors().size() == 1);
  CHECK_THAT(reg.errors()[0], Contains("librecfuse_garbage.so: cannot load"));
  CHECK(reg.plugins().empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("load_plugin refuses a parameter table that throws, naming file and algorithm", "[host]") {
  // Read later, the plugin's exception would outlive its library: `recfuse
  // plugins` and the run's up-front checks call params() with the registry
  // in a scope the exception leaves (a crash in the handler, not a message).
  require_load_error("throws_params", "algorithm 'test_throws_params': params() threw: boom in params");
  PluginRegistry reg;
  reg.scan({test::bad_plugin_dir()});
  CHECK_FALSE(reg.contains("test_throws_params"));
}

TEST_CASE("the host reads each parameter table once, at load, and keeps it", "[host]") {
  // Validation, `recfuse plugins` and the online runner read the copy taken at
  // load, so a table can neither change nor throw once its library has passed
  // the loader's checks.
  PluginRegistry reg;
  reg.add(bad("params_once"));
  reg.add(bad("good"));
  const AlgorithmHandle h = reg.find("test_params_once");
  const auto calls = h.plugin->library->get<int()>("test_params_once_calls");
  const int at_load = calls();
  CHECK(at_load >= 1);
  REQUIRE(h.params().size() == 1);
  CHECK(h.params()[0].name == "n");
  const ParamSet p = validate_params(h.params(), {{"n", std::int64_t{7}}}, {}, "", "test_params_once");
  CHECK(p.get_int("n") == 7);
  REQUIRE_THROWS_WITH(validate_params(h.params(), {{"n", std::int64_t{11}}}, {}, "", "test_params_once"),
                      Contains("out of range"));
  CHECK(calls() == at_load);
  CHECK(reg.find("test_good").params().size() == 2);  // one library's tables, by descriptor order
  reg.add(bad("favourite_env"));
  const EnvironmentHandle e = reg.find_environment("test_favourite");
  REQUIRE(e.params().size() == 5);
  CHECK(e.params()[4].name == "tiring");
}

TEST_CASE("load_plugin refuses a default outside its own range", "[host]") {
  // validate_params hands a missing key its default unchecked.
  require_load_error("bad_default",
                     "algorithm 'test_bad_default': parameter table: default 'n' = 500 is out of range [0, 100]");
}

TEST_CASE("load_plugin refuses an algorithm without a description", "[host]") {
  // `recfuse plugins` streamed the null pointer: std::cout went bad and
  // printed nothing more, with exit status 0.
  require_load_error("no_description", "algorithm 'test_no_description' has no description");
}

TEST_CASE("one library reached twice (repeated directory, symlink) loads once, without a clash", "[host]") {
  PluginRegistry once;
  once.scan({test::bad_plugin_dir()});
  PluginRegistry twice;
  twice.scan({test::bad_plugin_dir(), test::bad_plugin_dir()});
  CHECK(twice.errors() == once.errors());
  CHECK(twice.plugins().size() == once.plugins().size());

  const auto dir = test::temp_dir("plugin_links");
  const auto link = dir / "librecfuse_alias.so";
  std::filesystem::create_symlink(bad("good"), link);
  PluginRegistry reg;
  reg.scan({test::bad_plugin_dir(), dir});
  CHECK(reg.errors() == once.errors());
  CHECK(reg.find("test_good").plugin->file == bad("good"));
  REQUIRE_NOTHROW(reg.add(link));
  REQUIRE_NOTHROW(reg.add(bad("good")));
  CHECK(reg.plugins().size() == once.plugins().size());
  // A copy is another file: the first keeps the names, the copy is refused.
  std::filesystem::copy_file(bad("good"), dir / "librecfuse_copy.so");
  REQUIRE_THROWS_WITH(reg.add(dir / "librecfuse_copy.so"),
                      Contains((dir / "librecfuse_copy.so").string() + ": plugin library name 'test_good' is already taken by " +
                               bad("good").string()));
  std::filesystem::remove_all(dir);
}
