// FaultyDisk: a disk whose fsync fails on demand, for the tests of the ledger's rule "a failed
// fsync stops writes until restart". A container cannot make the kernel's fsync fail (no
// device-mapper "error"/"flakey" target), so the failure is injected one layer up, in an SQLite
// VFS that wraps the real one ("unix") and, while armed, answers every xSync with
// SQLITE_IOERR_FSYNC without syncing — what SQLite sees when the kernel reports EIO. Every other
// operation goes to the real files, so the bytes written before the failure are in the files
// (and their page cache), as they are after a real failed fsync.
//
// Registered as SQLite's default VFS for its lifetime: connections opened meanwhile use it
// (connections opened before keep theirs). One at a time per process. Arm()/Disarm() are
// thread-safe.
#pragma once

#include <cstdint>

namespace rp::testing {

class FaultyDisk {
 public:
  FaultyDisk();   // Registers the wrapping VFS as the default.
  ~FaultyDisk();  // Restores the real default VFS. Connections using this one must be closed.
  FaultyDisk(const FaultyDisk&) = delete;
  FaultyDisk& operator=(const FaultyDisk&) = delete;

  void ArmFsyncFailure();     // From now on every fsync fails.
  void DisarmFsyncFailure();  // The disk is "healthy" again.
  // Fsyncs answered with an error since construction.
  int64_t failed_fsyncs() const;
  // Fsyncs passed to the real disk since construction.
  int64_t real_fsyncs() const;
};

}  // namespace rp::testing
