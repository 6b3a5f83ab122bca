// The store's WAL batching VFS against real files: what a connection through it commits is
// what SQLite alone would have written, other connections see each commit as soon as it
// returns, a deferred sync leaves the syncing to the caller, and a failed write fails the
// commit instead of vanishing.

#include "wal_batching.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace plinth::store::detail {
namespace {

struct Conn {
  sqlite3* db = nullptr;
  Conn(const std::string& path, const std::string& vfs) {
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             vfs.empty() ? nullptr : vfs.c_str());
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db);
  }
  ~Conn() { sqlite3_close_v2(db); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  int exec(const std::string& sql) const {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) last_error = err ? err : "";
    sqlite3_free(err);
    return rc;
  }
  std::string scalar(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    std::string out = "?";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      auto* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
    return out;
  }
  mutable std::string last_error;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void setup_wal(const Conn& c) {
  ASSERT_EQ(c.exec("PRAGMA journal_mode = WAL"), SQLITE_OK);
  ASSERT_EQ(c.exec("PRAGMA synchronous = FULL"), SQLITE_OK);
  ASSERT_EQ(c.exec("PRAGMA wal_autocheckpoint = 0"), SQLITE_OK);
}

// Commits the same rows through `vfs`, in transactions of `per_txn` rows, and returns the WAL.
std::string wal_after_commits(const std::string& dir, const std::string& vfs, int per_txn) {
  const std::string path = dir + "/data.db";
  Conn c(path, vfs);
  setup_wal(c);
  EXPECT_EQ(c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
  for (int i = 0; i < 600; i += per_txn) {
    std::string sql = "BEGIN;";
    for (int j = i; j < i + per_txn; ++j)
      sql += "INSERT INTO t (id, v) VALUES (" + std::to_string((j * 7919) % 100003) +
             ", printf('%0500d', " + std::to_string(j) + "));";
    sql += "COMMIT;";
    EXPECT_EQ(c.exec(sql), SQLITE_OK) << c.last_error;
  }
  return read_file(path + "-wal");
}

// A VFS under the batching one that counts what reaches the WAL files and can fail their writes.
struct Probe {
  static inline sqlite3_vfs* base = nullptr;
  static inline sqlite3_vfs vfs{};
  static inline sqlite3_io_methods methods{};
  static inline const sqlite3_io_methods* base_methods = nullptr;
  static inline int wal_writes = 0;
  static inline int wal_syncs = 0;
  static inline bool fail_writes = false;

  struct File {
    sqlite3_file f;
    sqlite3_file* real;
  };
  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

  static const char* name() {
    if (base) return "walbatch-probe";
    base = sqlite3_vfs_find(nullptr);
    vfs = *base;
    vfs.zName = "walbatch-probe";
    vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    vfs.xOpen = [](sqlite3_vfs*, sqlite3_filename n, sqlite3_file* f, int flags, int* out) {
      auto* file = reinterpret_cast<File*>(f);
      file->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(File));
      if (!(flags & SQLITE_OPEN_WAL)) {
        file->f.pMethods = nullptr;
        int rc = base->xOpen(base, n, f, flags, out);
        return rc;
      }
      int rc = base->xOpen(base, n, file->real, flags, out);
      if (rc != SQLITE_OK) return rc;
      base_methods = file->real->pMethods;
      methods = *base_methods;
      methods.xClose = [](sqlite3_file* x) { return real(x)->pMethods->xClose(real(x)); };
      methods.xRead = [](sqlite3_file* x, void* b, int n, sqlite3_int64 o) {
        return real(x)->pMethods->xRead(real(x), b, n, o);
      };
      methods.xWrite = [](sqlite3_file* x, const void* b, int n, sqlite3_int64 o) {
        ++wal_writes;
        if (fail_writes) return SQLITE_IOERR_WRITE;
        return real(x)->pMethods->xWrite(real(x), b, n, o);
      };
      methods.xTruncate = [](sqlite3_file* x, sqlite3_int64 sz) {
        return real(x)->pMethods->xTruncate(real(x), sz);
      };
      methods.xSync = [](sqlite3_file* x, int fl) {
        ++wal_syncs;
        return real(x)->pMethods->xSync(real(x), fl);
      };
      methods.xFileSize = [](sqlite3_file* x, sqlite3_int64* sz) {
        return real(x)->pMethods->xFileSize(real(x), sz);
      };
      methods.xLock = [](sqlite3_file* x, int l) { return real(x)->pMethods->xLock(real(x), l); };
      methods.xUnlock = [](sqlite3_file* x, int l) {
        return real(x)->pMethods->xUnlock(real(x), l);
      };
      methods.xCheckReservedLock = [](sqlite3_file* x, int* o) {
        return real(x)->pMethods->xCheckReservedLock(real(x), o);
      };
      methods.xFileControl = [](sqlite3_file* x, int op, void* a) {
        return real(x)->pMethods->xFileControl(real(x), op, a);
      };
      methods.xSectorSize = [](sqlite3_file* x) { return real(x)->pMethods->xSectorSize(real(x)); };
      methods.xDeviceCharacteristics = [](sqlite3_file* x) {
        return real(x)->pMethods->xDeviceCharacteristics(real(x));
      };
      methods.iVersion = 1;
      file->f.pMethods = &methods;
      return SQLITE_OK;
    };
    sqlite3_vfs_register(&vfs, 0);
    return vfs.zName;
  }
};

TEST(WalBatching, WritesTheSameWalAsSqliteAlone) {
  const std::string vfs = wal_batching_vfs("");
  EXPECT_NE(vfs, "");
  EXPECT_EQ(wal_batching_vfs(""), vfs);  // registered once
  for (int per_txn : {1, 7, 60}) {
    test::TempDir a, b;
    std::string plain = wal_after_commits(a.path(), "", per_txn);
    std::string batched = wal_after_commits(b.path(), vfs, per_txn);
    ASSERT_GT(plain.size(), 32u);
    // The salts in the header (and so every checksum) are random per WAL: compare layouts,
    // and the pages in each frame.
    ASSERT_EQ(batched.size(), plain.size()) << per_txn;
    const std::size_t frame = 24 + 4096;
    for (std::size_t off = 32; off + frame <= plain.size(); off += frame) {
      ASSERT_EQ(plain.substr(off, 8), batched.substr(off, 8)) << "frame header at " << off;
      ASSERT_EQ(plain.substr(off + 24, 4096), batched.substr(off + 24, 4096))
          << "page at " << off << " with " << per_txn << " rows per transaction";
    }
  }
}

TEST(WalBatching, OtherConnectionsSeeEveryCommitAtOnce) {
  test::TempDir dir;
  const std::string path = dir.path() + "/data.db";
  Conn writer(path, wal_batching_vfs(""));
  setup_wal(writer);
  ASSERT_EQ(writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
  Conn reader(path, "");
  WalSyncDeferral defer(true);
  for (int i = 1; i <= 50; ++i) {
    std::string sql = "BEGIN;";
    for (int j = 0; j < i; ++j) sql += "INSERT INTO t (v) VALUES (randomblob(300));";
    sql += "COMMIT;";
    ASSERT_EQ(writer.exec(sql), SQLITE_OK) << writer.last_error;
    ASSERT_EQ(reader.scalar("SELECT count(*) FROM t"), std::to_string(i * (i + 1) / 2));
    ASSERT_EQ(reader.scalar("PRAGMA quick_check"), "ok");
  }
  // A checkpoint through the writer, and a WAL that starts over after it, stay consistent.
  {
    WalSyncDeferral real(false);
    ASSERT_EQ(writer.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
  }
  ASSERT_EQ(writer.exec("INSERT INTO t (v) VALUES ('after')"), SQLITE_OK);
  EXPECT_EQ(reader.scalar("SELECT v FROM t ORDER BY id DESC LIMIT 1"), "after");
  EXPECT_EQ(reader.scalar("PRAGMA integrity_check"), "ok");
}

// A WAL database written through the batching VFS over the probe, with its table `t`.
struct ProbedWal {
  explicit ProbedWal(const char* value_type) {
    setup_wal(writer);
    EXPECT_EQ(
        writer.exec(std::string("CREATE TABLE t (id INTEGER PRIMARY KEY, v ") + value_type + ")"),
        SQLITE_OK);
  }
  test::TempDir dir;
  const std::string path = dir.path() + "/data.db";
  Conn writer{path, wal_batching_vfs(Probe::name())};
};

TEST(WalBatching, OneWritePerCommitAndDeferredSyncsLeftToTheCaller) {
  ProbedWal db("TEXT");
  const std::string& path = db.path;
  Conn& writer = db.writer;
  const std::string ten_pages =
      "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) "
      "INSERT INTO t (v) SELECT randomblob(3000) FROM n; COMMIT;";

  // Not deferred: SQLite's sync of each commit reaches the disk, after one write of its frames.
  Probe::wal_writes = Probe::wal_syncs = 0;
  ASSERT_EQ(writer.exec(ten_pages), SQLITE_OK) << writer.last_error;
  EXPECT_EQ(Probe::wal_writes, 1);  // ~12 frames: 24 writes without the batching VFS
  EXPECT_EQ(Probe::wal_syncs, 1);

  // Deferred: the frames are written, the sync is the caller's.
  {
    WalSyncDeferral defer(true);
    Probe::wal_writes = Probe::wal_syncs = 0;
    ASSERT_EQ(writer.exec(ten_pages), SQLITE_OK) << writer.last_error;
    EXPECT_EQ(Probe::wal_writes, 1);
    EXPECT_EQ(Probe::wal_syncs, 0);
    {
      WalSyncDeferral nested(false);
      ASSERT_EQ(writer.exec(ten_pages), SQLITE_OK);
      EXPECT_EQ(Probe::wal_syncs, 1);
    }
    ASSERT_EQ(writer.exec(ten_pages), SQLITE_OK);
    EXPECT_EQ(Probe::wal_syncs, 1);  // deferred again once the nested scope ended

    // A WAL that starts over syncs its new header even when deferred.
    {
      WalSyncDeferral real(false);
      ASSERT_EQ(writer.exec("PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
    }
    Probe::wal_syncs = 0;
    ASSERT_EQ(writer.exec(ten_pages), SQLITE_OK) << writer.last_error;
    EXPECT_EQ(Probe::wal_syncs, 1);
  }
  Conn reader(path, "");
  EXPECT_EQ(reader.scalar("SELECT count(*) FROM t"), "50");
}

TEST(WalBatching, AFailedWriteFailsTheCommitAndPublishesNothing) {
  ProbedWal db("TEXT");
  const std::string& path = db.path;
  Conn& writer = db.writer;
  ASSERT_EQ(writer.exec("INSERT INTO t (v) VALUES ('kept')"), SQLITE_OK);
  Conn reader(path, "");
  WalSyncDeferral defer(true);
  Probe::fail_writes = true;
  int rc = writer.exec("BEGIN; INSERT INTO t (v) VALUES ('lost'), ('lost'); COMMIT;");
  Probe::fail_writes = false;
  EXPECT_EQ(rc & 0xff, SQLITE_IOERR) << writer.last_error;
  writer.exec("ROLLBACK");
  EXPECT_EQ(reader.scalar("SELECT group_concat(v) FROM t"), "kept");
  // The connection goes on: the frames are written anew.
  ASSERT_EQ(writer.exec("INSERT INTO t (v) VALUES ('next')"), SQLITE_OK) << writer.last_error;
  EXPECT_EQ(reader.scalar("SELECT group_concat(v) FROM t"), "kept,next");
  EXPECT_EQ(reader.scalar("PRAGMA integrity_check"), "ok");
}

TEST(WalBatching, AWriteOutThatFailsUnheardFailsTheNextCommit) {
  ProbedWal db("BLOB");
  const std::string& path = db.path;
  Conn& writer = db.writer;
  ASSERT_EQ(writer.exec("INSERT INTO t (v) VALUES ('kept')"), SQLITE_OK);
  Conn reader(path, "");
  // A tiny page cache makes the transaction spill frames into the WAL before its commit.
  ASSERT_EQ(writer.exec("PRAGMA cache_size = 2"), SQLITE_OK);
  WalSyncDeferral defer(true);
  ASSERT_EQ(writer.exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 200) INSERT INTO t (v) SELECT randomblob(3000) FROM n;"),
            SQLITE_OK)
      << writer.last_error;
  sqlite3_file* wal = nullptr;
  ASSERT_EQ(sqlite3_file_control(writer.db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal), SQLITE_OK);
  ASSERT_NE(wal, nullptr);
  // A file control whose result SQLite would ignore (a hint) while the spilled frames wait.
  Probe::fail_writes = true;
  sqlite3_int64 hint = 1 << 20;
  EXPECT_NE(wal->pMethods->xFileControl(wal, SQLITE_FCNTL_SIZE_HINT, &hint), SQLITE_OK);
  Probe::fail_writes = false;
  // The commit's sync reports it: the commit fails and nothing of it is published.
  EXPECT_NE(writer.exec("COMMIT"), SQLITE_OK);
  writer.exec("ROLLBACK");
  EXPECT_EQ(reader.scalar("SELECT count(*) FROM t"), "1");
  ASSERT_EQ(writer.exec("INSERT INTO t (v) VALUES ('next')"), SQLITE_OK) << writer.last_error;
  EXPECT_EQ(reader.scalar("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(reader.scalar("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace plinth::store::detail
