#pragma once
// A test-only SQLite VFS ("powercut") that wraps the default one and remembers,
// per file, every write since that file's last sync. crash() then plays a power
// cut: each unsynced write is independently kept, dropped or torn (a prefix of
// whole 512-byte sectors kept), and the "disk" stops taking writes until thaw().
// Synced data is never touched — exactly the guarantee fsync gives.

#include <cstdint>
#include <random>

namespace plinth::crash {

struct CrashReport {
  std::uint64_t unsynced_writes = 0;
  std::uint64_t kept = 0, dropped = 0, torn = 0;
};

class PowerCut {
 public:
  static const char* kName;
  static void install();  // registers the VFS once (not as the default)
  static CrashReport crash(std::mt19937& rng);
  static void thaw();  // forget the journals; writes reach the disk again
};

}  // namespace plinth::crash
