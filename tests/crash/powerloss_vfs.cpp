#include "powerloss_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace plinth::crash {
namespace {

// One unsynced operation with what it overwrote, so a crash can undo it.
struct Op {
  bool truncate = false;
  std::int64_t offset = 0;    // write offset, or the new size for a truncate
  std::string data;           // bytes written
  std::string old;            // bytes it replaced (within the old size) / the cut tail
  std::int64_t old_size = 0;  // file size before the operation
};

struct Journal {
  std::vector<Op> ops;  // unsynced, in order
};

struct State {
  std::mutex mu;
  bool frozen = false;
  std::map<std::string, Journal> journals;
  sqlite3_vfs* real = nullptr;
  sqlite3_vfs vfs{};
};

State& state() {
  static State s;  // test-only fault injector: SQLite's VFS registry is process-global
  return s;
}

struct File {
  sqlite3_file base;
  std::string* path;
  sqlite3_file* real;
};

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<File*>(f)->real;
}

std::int64_t real_size(sqlite3_file* f) {
  sqlite3_int64 sz = 0;
  real_of(f)->pMethods->xFileSize(real_of(f), &sz);
  return sz;
}

int x_close(sqlite3_file* f) {
  auto* file = reinterpret_cast<File*>(f);
  int rc = file->real->pMethods->xClose(file->real);
  delete file->path;
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}
std::string read_range(sqlite3_file* f, std::int64_t off, std::int64_t n) {
  std::string out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)), '\0');
  if (n > 0) real_of(f)->pMethods->xRead(real_of(f), out.data(), static_cast<int>(n), off);
  return out;
}

int x_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.frozen) return SQLITE_OK;  // power is gone: the write never happens
  auto* file = reinterpret_cast<File*>(f);
  Op op;
  op.offset = off;
  op.data.assign(static_cast<const char*>(buf), static_cast<std::size_t>(amt));
  op.old_size = real_size(f);
  op.old = read_range(f, off, std::min<std::int64_t>(amt, op.old_size - off));
  s.journals[*file->path].ops.push_back(std::move(op));
  return file->real->pMethods->xWrite(file->real, buf, amt, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.frozen) return SQLITE_OK;
  auto* file = reinterpret_cast<File*>(f);
  Op op;
  op.truncate = true;
  op.offset = size;
  op.old_size = real_size(f);
  op.old = read_range(f, size, op.old_size - size);
  s.journals[*file->path].ops.push_back(std::move(op));
  return file->real->pMethods->xTruncate(file->real, size);
}
int x_sync(sqlite3_file* f, int flags) {
  auto& s = state();
  auto* file = reinterpret_cast<File*>(f);
  std::size_t covered = 0;
  {
    std::lock_guard lock(s.mu);
    if (s.frozen) return SQLITE_OK;
    covered = s.journals[*file->path].ops.size();
  }
  // The sync itself runs unlocked: a power cut may land while it is in progress,
  // and then the writes it was meant to cover are still at risk.
  int rc = file->real->pMethods->xSync(file->real, flags);
  std::lock_guard lock(s.mu);
  if (rc == SQLITE_OK && !s.frozen) {
    auto& ops = s.journals[*file->path].ops;
    ops.erase(ops.begin(),
              ops.begin() + static_cast<std::ptrdiff_t>(std::min(covered, ops.size())));
  }
  return rc;
}
int x_file_size(sqlite3_file* f, sqlite3_int64* out) {
  return real_of(f)->pMethods->xFileSize(real_of(f), out);
}
int x_lock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xLock(real_of(f), l);
}
int x_unlock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xUnlock(real_of(f), l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int x_device(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** pp) {
  return real_of(f)->pMethods->xShmMap(real_of(f), pg, sz, extend, pp);
}
int x_shm_lock(sqlite3_file* f, int off, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), off, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int x_shm_unmap(sqlite3_file* f, int del) {
  return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

const sqlite3_io_methods kMethods = {
    2,           x_close,   x_read,     x_write,          x_truncate,     x_sync,
    x_file_size, x_lock,    x_unlock,   x_check_reserved, x_file_control, x_sector_size,
    x_device,    x_shm_map, x_shm_lock, x_shm_barrier,    x_shm_unmap,    nullptr,
    nullptr,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto& s = state();
  auto* file = reinterpret_cast<File*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(File));
  file->path = new std::string(name ? name : "");
  int rc = s.real->xOpen(s.real, name, file->real, flags, out_flags);
  file->base.pMethods = file->real->pMethods ? &kMethods : nullptr;
  if (!file->real->pMethods) {
    delete file->path;
    file->path = nullptr;
  }
  return rc;
}
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  auto& s = state();
  {
    std::lock_guard lock(s.mu);
    if (s.frozen) return SQLITE_OK;
    s.journals.erase(name);
  }
  return s.real->xDelete(s.real, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return state().real->xAccess(state().real, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return state().real->xFullPathname(state().real, name, n, out);
}
void* x_dlopen(sqlite3_vfs*, const char* p) {
  return state().real->xDlOpen(state().real, p);
}
void x_dlerror(sqlite3_vfs*, int n, char* m) {
  state().real->xDlError(state().real, n, m);
}
void (*x_dlsym(sqlite3_vfs*, void* h, const char* s))(void) {
  return state().real->xDlSym(state().real, h, s);
}
void x_dlclose(sqlite3_vfs*, void* h) {
  state().real->xDlClose(state().real, h);
}
int x_randomness(sqlite3_vfs*, int n, char* out) {
  return state().real->xRandomness(state().real, n, out);
}
int x_sleep(sqlite3_vfs*, int us) {
  return state().real->xSleep(state().real, us);
}
int x_current_time(sqlite3_vfs*, double* t) {
  return state().real->xCurrentTime(state().real, t);
}
int x_get_last_error(sqlite3_vfs*, int n, char* m) {
  return state().real->xGetLastError(state().real, n, m);
}
int x_current_time64(sqlite3_vfs*, sqlite3_int64* t) {
  return state().real->xCurrentTimeInt64(state().real, t);
}

}  // namespace

const char* PowerCut::kName = "powercut";

void PowerCut::install() {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.real) return;
  s.real = sqlite3_vfs_find(nullptr);
  s.vfs = sqlite3_vfs{};
  s.vfs.iVersion = 2;
  s.vfs.szOsFile = static_cast<int>(sizeof(File)) + s.real->szOsFile;
  s.vfs.mxPathname = s.real->mxPathname;
  s.vfs.zName = kName;
  s.vfs.xOpen = x_open;
  s.vfs.xDelete = x_delete;
  s.vfs.xAccess = x_access;
  s.vfs.xFullPathname = x_full_pathname;
  s.vfs.xDlOpen = x_dlopen;
  s.vfs.xDlError = x_dlerror;
  s.vfs.xDlSym = x_dlsym;
  s.vfs.xDlClose = x_dlclose;
  s.vfs.xRandomness = x_randomness;
  s.vfs.xSleep = x_sleep;
  s.vfs.xCurrentTime = x_current_time;
  s.vfs.xGetLastError = x_get_last_error;
  s.vfs.xCurrentTimeInt64 = x_current_time64;
  sqlite3_vfs_register(&s.vfs, 0);
}

CrashReport PowerCut::crash(std::mt19937& rng) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.frozen = true;
  CrashReport report;
  std::uniform_int_distribution<int> fate(0, 2);  // 0 dropped, 1 kept, 2 torn
  for (auto& [path, j] : s.journals) {
    if (j.ops.empty()) continue;
    int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) continue;
    // 1. Undo every unsynced operation, newest first: back to the synced image.
    for (auto it = j.ops.rbegin(); it != j.ops.rend(); ++it) {
      if (!it->old.empty()) {
        auto at = it->truncate ? it->offset : it->offset;
        [[maybe_unused]] auto n = ::pwrite(fd, it->old.data(), it->old.size(), at);
      }
      [[maybe_unused]] int rc = ::ftruncate(fd, it->old_size);
    }
    // 2. Each unsynced operation independently reached the disk, or did not,
    //    or was torn (only a prefix of whole sectors written).
    for (const auto& op : j.ops) {
      ++report.unsynced_writes;
      int f = fate(rng);
      if (f == 0) {
        ++report.dropped;
        continue;
      }
      if (op.truncate) {
        ++report.kept;
        [[maybe_unused]] int rc = ::ftruncate(fd, op.offset);
        continue;
      }
      std::size_t n = op.data.size();
      if (f == 2 && n > 512) {
        std::uniform_int_distribution<std::size_t> sectors(0, n / 512 - 1);
        n = sectors(rng) * 512;
        ++report.torn;
      } else {
        ++report.kept;
      }
      if (n) [[maybe_unused]]
        auto w = ::pwrite(fd, op.data.data(), n, op.offset);
    }
    ::close(fd);
  }
  return report;
}

void PowerCut::thaw() {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.frozen = false;
  s.journals.clear();
}

}  // namespace plinth::crash
