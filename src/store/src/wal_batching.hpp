#pragma once
// A SQLite VFS for the store's writer connection that writes each commit's WAL frames with one
// call instead of two per page (a frame header, then the page), and lets the store do the
// commit's sync on a thread of its own.
//
// SQLite writes a commit's frames one after another and then, at synchronous = FULL, syncs
// the WAL before it publishes the commit to readers. The WAL files of this VFS gather the
// contiguous writes and write them out at that sync (or at any read, truncate, size query,
// file control, close, or when the gathered bytes reach a bound), so a failed write surfaces
// as a failed COMMIT, as without the VFS. The VFS is only correct for connections at
// synchronous = FULL or EXTRA: at NORMAL no sync precedes the publication.

#include <string>

namespace plinth::store::detail {

// The name of the batching VFS over `base` ("" = SQLite's default VFS), registering it with
// SQLite on first use (SQLite's VFS registry is process-wide). Throws when `base` is unknown.
std::string wal_batching_vfs(const std::string& base);

// While one is alive on a thread with `defer` true, a commit's WAL sync on that thread only
// writes the gathered frames out: the caller makes them durable itself before anyone relies
// on them (the store's syncer). A WAL that starts over still gets its new header synced, as
// SQLite asks. Nested scopes restore the previous setting.
class WalSyncDeferral {
 public:
  explicit WalSyncDeferral(bool defer);
  ~WalSyncDeferral();
  WalSyncDeferral(const WalSyncDeferral&) = delete;
  WalSyncDeferral& operator=(const WalSyncDeferral&) = delete;

 private:
  bool previous_;
};

}  // namespace plinth::store::detail
