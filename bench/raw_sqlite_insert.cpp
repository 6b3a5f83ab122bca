// raw_sqlite_insert: the SQLite ceiling for durable creates. One thread, one
// prepared statement, rows committed in fixed-size transactions with the same
// pragmas Plinth's store uses (WAL, synchronous = FULL), for a fixed time.
//
//   raw_sqlite_insert <db> <schema.sql> <seconds> [rows_per_txn=64]
//
// <schema.sql> is the `posts` table exactly as Plinth created it (bench/run.sh
// takes it from `sqlite3 data.db '.schema posts'`), so the rows, indexes and
// column affinities match. Prints one line of key=value figures.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr char kIdAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kIdLength = 15;
constexpr char kStepDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr std::int64_t kIdEpochMs = 1577836800000;  // 2020-01-01 UTC

[[noreturn]] void die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "raw_sqlite_insert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "raw_sqlite_insert: %s: %s\n", sql.c_str(), err ? err : "?");
    std::exit(1);
  }
}

// PocketBase's datetime text, e.g. "2024-05-01 12:34:56.789Z", as Plinth stores autodates.
std::string now_text() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

long peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <db> <schema.sql> <seconds> [rows_per_txn=64]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  std::ifstream schema_in(argv[2]);
  std::stringstream schema;
  schema << schema_in.rdbuf();
  const double seconds = std::strtod(argv[3], nullptr);
  const int rows_per_txn = argc > 4 ? std::atoi(argv[4]) : 64;
  if (schema.str().empty() || seconds <= 0 || rows_per_txn <= 0) {
    std::fprintf(stderr,
                 "raw_sqlite_insert: empty schema, or non-positive seconds or rows_per_txn\n");
    return 2;
  }

  // Process-wide, as Plinth's store sets it (src/store/src/sqlite.cpp): no memory statistics.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    die(db, "open");
  }
  // The same settings as Plinth's store (src/store/src/sqlite_store.cpp, durability full).
  exec(db, "PRAGMA busy_timeout = 10000");
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA journal_size_limit = 200000000");
  exec(db, "PRAGMA synchronous = FULL");
  exec(db, "PRAGMA foreign_keys = ON");
  exec(db, "PRAGMA temp_store = MEMORY");
  exec(db, "PRAGMA cache_size = -32000");
  exec(db, schema.str());

  sqlite3_stmt* insert = nullptr;
  const char* sql =
      "INSERT INTO `posts` (`id`, `title`, `views`, `created`, `updated`) VALUES (?, ?, ?, ?, ?)";
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr) != SQLITE_OK) {
    die(db, "prepare");
  }

  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(0, 35);
  std::string id(kIdLength, 'a');

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  long rows = 0;
  std::vector<double> commit_us;
  while (Clock::now() < deadline) {
    const auto txn_start = Clock::now();
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < rows_per_txn; ++i) {
      // Ids as Plinth makes them (util::time_ordered_id): 7 characters counting 36 ms steps
      // since 2020 in base 36, then 8 random ones.
      auto step =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count() -
                                     kIdEpochMs) /
          36;
      for (int k = 6; k >= 0; --k) {
        id[static_cast<std::size_t>(k)] = kStepDigits[step % 36];
        step /= 36;
      }
      for (std::size_t k = 7; k < id.size(); ++k) id[k] = kIdAlphabet[pick(rng)];
      const std::string now = now_text();
      sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, "hello", 5, SQLITE_STATIC);
      sqlite3_bind_double(insert, 3, 1.0);
      sqlite3_bind_text(insert, 4, now.data(), static_cast<int>(now.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 5, now.data(), static_cast<int>(now.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(insert) != SQLITE_DONE) die(db, "insert");
      sqlite3_reset(insert);
    }
    exec(db, "COMMIT");
    rows += rows_per_txn;
    commit_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - txn_start).count());
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);

  // Reading the rows back proves they were written, not just counted.
  sqlite3_stmt* count = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM `posts`", -1, &count, nullptr) != SQLITE_OK)
    die(db, "count");
  if (sqlite3_step(count) != SQLITE_ROW) die(db, "count");
  const long stored = sqlite3_column_int64(count, 0);
  sqlite3_finalize(count);
  sqlite3_close(db);
  if (stored != rows) {
    std::fprintf(stderr, "raw_sqlite_insert: inserted %ld rows but the table holds %ld\n", rows,
                 stored);
    return 1;
  }

  std::printf(
      "rows=%ld seconds=%.3f rows_per_sec=%.1f commits=%zu commit_p50_us=%.0f commit_p99_us=%.0f "
      "peak_rss_kb=%ld\n",
      rows, elapsed, static_cast<double>(rows) / elapsed, commit_us.size(),
      percentile(commit_us, 0.50), percentile(commit_us, 0.99), peak_rss_kb());
  return 0;
}
