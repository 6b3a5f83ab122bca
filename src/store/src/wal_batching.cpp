#include "wal_batching.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "plinth/store/sqlite.hpp"

namespace plinth::store::detail {
namespace {

// Gathered bytes are written out once they would pass this: a commit of a few hundred pages
// stays one write, and a bulk import holds no more than this in memory.
constexpr std::size_t kMaxGathered = std::size_t{2} << 20;

// The most one call passes to the base VFS: SQLite's unix VFS takes a write's length modulo
// 128 KiB (its own writes are a page at most).
constexpr std::size_t kMaxWrite = std::size_t{96} << 10;

thread_local bool t_defer_sync = false;

// The bytes written but not yet passed on: one contiguous run starting at `offset`.
struct Gathered {
  std::vector<unsigned char> bytes;
  sqlite3_int64 offset = 0;
};

// A WAL file: SQLite sees `base`; `real` is the base VFS's file, in the same allocation.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  Gathered* gathered;
  int lost = SQLITE_OK;  // a failed write-out nobody was told of: the next sync reports it
};

// Room for a WalFile before the base VFS's file, keeping the latter pointer-aligned.
constexpr int kHeaderBytes =
    static_cast<int>((sizeof(WalFile) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
                     alignof(std::max_align_t));

WalFile* wal(sqlite3_file* f) {
  return reinterpret_cast<WalFile*>(f);
}

// Passes the gathered bytes on, in writes of at most kMaxWrite. They are dropped even when a
// write fails: SQLite then fails the commit (or the read that needed them) and writes the
// frames anew if it retries.
int flush(WalFile* w) {
  Gathered& g = *w->gathered;
  int rc = SQLITE_OK;
  for (std::size_t at = 0; at < g.bytes.size() && rc == SQLITE_OK; at += kMaxWrite) {
    const std::size_t n = std::min(kMaxWrite, g.bytes.size() - at);
    rc = w->real->pMethods->xWrite(w->real, g.bytes.data() + at, static_cast<int>(n),
                                   g.offset + static_cast<sqlite3_int64>(at));
  }
  g.bytes.clear();
  return rc;
}

int x_close(sqlite3_file* f) {
  WalFile* w = wal(f);
  int flushed = flush(w);
  int rc = w->real->pMethods->xClose(w->real);
  delete w->gathered;
  w->gathered = nullptr;
  return rc != SQLITE_OK ? rc : flushed;
}

int x_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, buf, amt, off);
}

int x_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  WalFile* w = wal(f);
  Gathered& g = *w->gathered;
  const auto n = static_cast<std::size_t>(amt);
  const auto* bytes = static_cast<const unsigned char*>(buf);
  if (!g.bytes.empty()) {
    const sqlite3_int64 end = g.offset + static_cast<sqlite3_int64>(g.bytes.size());
    if (off == end && g.bytes.size() + n <= kMaxGathered) {
      try {
        g.bytes.insert(g.bytes.end(), bytes, bytes + n);
        return SQLITE_OK;
      } catch (const std::bad_alloc&) {
        // No memory to gather more: what is gathered goes out, then this write.
        if (int rc = flush(w); rc != SQLITE_OK) return rc;
        return w->real->pMethods->xWrite(w->real, buf, amt, off);
      }
    }
    if (off >= g.offset && off + amt <= end) {  // a frame of this commit written again
      std::memcpy(g.bytes.data() + (off - g.offset), bytes, n);
      return SQLITE_OK;
    }
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
  }
  try {
    g.bytes.assign(bytes, bytes + n);
  } catch (const std::bad_alloc&) {
    g.bytes.clear();
    return w->real->pMethods->xWrite(w->real, buf, amt, off);
  }
  g.offset = off;
  if (n >= kMaxWrite) return flush(w);  // larger than anything SQLite writes in one call
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  WalFile* w = wal(f);
  if (int lost = std::exchange(w->lost, SQLITE_OK); lost != SQLITE_OK) {
    w->gathered->bytes.clear();
    return lost;  // frames of this commit never reached the file: it must not be published
  }
  // SQLite syncs a WAL that starts over right after writing its new header at offset 0,
  // before the frames that will overwrite the old ones: that sync always happens.
  const bool new_header = !w->gathered->bytes.empty() && w->gathered->offset == 0;
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  if (t_defer_sync && !new_header) return SQLITE_OK;
  return w->real->pMethods->xSync(w->real, flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* out) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, out);
}

int x_lock(sqlite3_file* f, int l) {
  return wal(f)->real->pMethods->xLock(wal(f)->real, l);
}
int x_unlock(sqlite3_file* f, int l) {
  return wal(f)->real->pMethods->xUnlock(wal(f)->real, l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return wal(f)->real->pMethods->xCheckReservedLock(wal(f)->real, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) {
    // SQLite ignores what some file controls (hints) return; the commit's sync will not.
    w->lost = rc;
    return rc;
  }
  return w->real->pMethods->xFileControl(w->real, op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return wal(f)->real->pMethods->xSectorSize(wal(f)->real);
}
int x_device(sqlite3_file* f) {
  return wal(f)->real->pMethods->xDeviceCharacteristics(wal(f)->real);
}

// Version 1: SQLite maps shared memory and pages through the database file, never the WAL.
const sqlite3_io_methods kWalMethods = {
    1,       x_close,  x_read,           x_write,        x_truncate,    x_sync,   x_file_size,
    x_lock,  x_unlock, x_check_reserved, x_file_control, x_sector_size, x_device, nullptr,
    nullptr, nullptr,  nullptr,          nullptr,        nullptr,
};

sqlite3_vfs* base_of(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* base = base_of(vfs);
  // Every other file is the base VFS's own, opened in place.
  if (!(flags & SQLITE_OPEN_WAL)) return base->xOpen(base, name, f, flags, out_flags);
  WalFile* w = wal(f);
  w->base.pMethods = nullptr;
  w->lost = SQLITE_OK;
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kHeaderBytes);
  w->real->pMethods = nullptr;
  w->gathered = new (std::nothrow) Gathered;
  if (!w->gathered) return SQLITE_NOMEM;
  int rc = base->xOpen(base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    delete w->gathered;
    w->gathered = nullptr;
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return base_of(v)->xDelete(base_of(v), name, sync_dir);
}
int x_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return base_of(v)->xAccess(base_of(v), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return base_of(v)->xFullPathname(base_of(v), name, n, out);
}
void* x_dlopen(sqlite3_vfs* v, const char* p) {
  return base_of(v)->xDlOpen(base_of(v), p);
}
void x_dlerror(sqlite3_vfs* v, int n, char* m) {
  base_of(v)->xDlError(base_of(v), n, m);
}
void (*x_dlsym(sqlite3_vfs* v, void* h, const char* s))(void) {
  return base_of(v)->xDlSym(base_of(v), h, s);
}
void x_dlclose(sqlite3_vfs* v, void* h) {
  base_of(v)->xDlClose(base_of(v), h);
}
int x_randomness(sqlite3_vfs* v, int n, char* out) {
  return base_of(v)->xRandomness(base_of(v), n, out);
}
int x_sleep(sqlite3_vfs* v, int us) {
  return base_of(v)->xSleep(base_of(v), us);
}
int x_current_time(sqlite3_vfs* v, double* out) {
  return base_of(v)->xCurrentTime(base_of(v), out);
}
int x_last_error(sqlite3_vfs* v, int n, char* out) {
  return base_of(v)->xGetLastError ? base_of(v)->xGetLastError(base_of(v), n, out) : 0;
}
int x_current_time64(sqlite3_vfs* v, sqlite3_int64* out) {
  return base_of(v)->xCurrentTimeInt64(base_of(v), out);
}

struct Registered {
  std::string name;
  sqlite3_vfs vfs{};
};

}  // namespace

std::string wal_batching_vfs(const std::string& base_name) {
  // Registered VFSes must outlive every connection, so these live as long as the process.
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Registered>> registered;
  configure_sqlite_once();  // before sqlite3_vfs_find initialises SQLite
  std::lock_guard lock(mu);
  auto& slot = registered[base_name];
  if (slot) return slot->name;
  sqlite3_vfs* base = sqlite3_vfs_find(base_name.empty() ? nullptr : base_name.c_str());
  if (!base) throw std::runtime_error("unknown SQLite VFS: " + base_name);
  auto r = std::make_unique<Registered>();
  r->name = std::string(base->zName) + "+walbatch";
  sqlite3_vfs& v = r->vfs;
  // Version 2 at most: the system-call overrides of version 3 stay the base VFS's business.
  v.iVersion = base->iVersion < 2 ? base->iVersion : 2;
  v.szOsFile = kHeaderBytes + base->szOsFile;
  v.mxPathname = base->mxPathname;
  v.zName = r->name.c_str();
  v.pAppData = base;
  v.xOpen = x_open;
  v.xDelete = x_delete;
  v.xAccess = x_access;
  v.xFullPathname = x_full_pathname;
  v.xDlOpen = base->xDlOpen ? x_dlopen : nullptr;
  v.xDlError = base->xDlError ? x_dlerror : nullptr;
  v.xDlSym = base->xDlSym ? x_dlsym : nullptr;
  v.xDlClose = base->xDlClose ? x_dlclose : nullptr;
  v.xRandomness = x_randomness;
  v.xSleep = x_sleep;
  v.xCurrentTime = x_current_time;
  v.xGetLastError = x_last_error;
  if (v.iVersion >= 2) v.xCurrentTimeInt64 = base->xCurrentTimeInt64 ? x_current_time64 : nullptr;
  if (int rc = sqlite3_vfs_register(&v, 0); rc != SQLITE_OK)
    throw std::runtime_error("cannot register the WAL batching VFS: " +
                             std::string(sqlite3_errstr(rc)));
  slot = std::move(r);
  return slot->name;
}

WalSyncDeferral::WalSyncDeferral(bool defer) : previous_(t_defer_sync) {
  t_defer_sync = defer;
}

WalSyncDeferral::~WalSyncDeferral() {
  t_defer_sync = previous_;
}

}  // namespace plinth::store::detail
