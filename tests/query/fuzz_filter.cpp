// libFuzzer target: arbitrary bytes as a filter (and, after a 0x7f byte, a
// sort list) compiled against the unit-test schema
// in both dialects, as a guest client and as a superuser. The oracle is
// strong: whatever compiles must also prepare and run in SQLite with exactly
// as many bound parameters as placeholders. Not part of the CMake build.
//
// Build and run with clang (from the repository root):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Isrc/query/include -Isrc/query/src -Isrc/core/include -Isrc/util/include \
//     tests/query/fuzz_filter.cpp tests/query/fixture.cpp src/query/src/*.cpp \
//     src/core/src/*.cpp src/util/src/*.cpp -lboost_json -lsqlite3 -lz -o /tmp/fuzz_filter
//   /tmp/fuzz_filter -max_len=4096 -timeout=5 tests/query/corpus

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fixture.hpp"

using namespace plinth::query;

namespace {

void check(const test::Fixture& fx, std::string_view filter, std::string_view sort,
           const RequestInfo& request, CompileOptions options) {
  for (auto dialect : {Dialect::sqlite, Dialect::postgres}) {
    options.dialect = dialect;
    Compiler c(fx.catalog(), fx.collection("posts"), request, options);
    if (c.add_filter(filter)) continue;
    if (!sort.empty() && c.add_sort(sort)) continue;
    auto r = c.finish();
    if (!std::holds_alternative<Compiled>(r) || dialect != Dialect::sqlite) continue;
    auto out = fx.execute("posts", std::get<Compiled>(r));
    if (out.starts_with("!error")) std::abort();  // compiled SQL that SQLite rejects
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const test::Fixture fixture;
  static const RequestInfo guest;
  static const RequestInfo user = fixture.as_user("u1");
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view filter = input, sort;
  if (auto bar = input.find('\x7f'); bar != std::string_view::npos) {
    filter = input.substr(0, bar);
    sort = input.substr(bar + 1);
  }
  check(fixture, filter, sort, guest, test::client_options());
  check(fixture, filter, sort, user, test::superuser_options());
  return 0;
}
