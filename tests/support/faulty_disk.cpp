#include "tests/support/faulty_disk.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>

#include "common/check.h"

namespace rp::testing {
namespace {

std::atomic<bool> g_fsync_fails{false};
std::atomic<int64_t> g_failed_fsyncs{0};
std::atomic<int64_t> g_real_fsyncs{0};
sqlite3_vfs* g_real = nullptr;  // The default VFS we wrap ("unix").
sqlite3_vfs g_vfs;              // Ours.
bool g_registered = false;

// Our file: SQLite allocates szOsFile bytes; the real file's struct follows ours.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<File*>(f)->real;
}

int Close(sqlite3_file* f) {
  return Real(f)->pMethods ? Real(f)->pMethods->xClose(Real(f)) : SQLITE_OK;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
// The one operation that fails: like a kernel reporting EIO from fsync(2), nothing is synced.
int Sync(sqlite3_file* f, int flags) {
  if (g_fsync_fails.load()) {
    g_failed_fsyncs.fetch_add(1);
    return SQLITE_IOERR_FSYNC;
  }
  g_real_fsyncs.fetch_add(1);
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  Real(f)->pMethods->xShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

// Version 3 methods: WAL needs the shared-memory ones; the real "unix" VFS has all of them.
const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* /*vfs*/, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  File* file = reinterpret_cast<File*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->base.pMethods = nullptr;  // Until the real open succeeded: SQLite then skips xClose.
  int rc = g_real->xOpen(g_real, name, file->real, flags, out_flags);
  if (rc == SQLITE_OK) {
    RP_CHECK(file->real->pMethods == nullptr || file->real->pMethods->iVersion >= 3);
    file->base.pMethods = &kMethods;
  }
  return rc;
}

// Everything else about paths and the system is the real VFS's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return g_real->xDlOpen(g_real, name);
}
void DlError(sqlite3_vfs*, int n, char* out) {
  g_real->xDlError(g_real, n, out);
}
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void DlClose(sqlite3_vfs*, void* h) {
  g_real->xDlClose(g_real, h);
}
int Randomness(sqlite3_vfs*, int n, char* out) {
  return g_real->xRandomness(g_real, n, out);
}
int SleepUs(sqlite3_vfs*, int us) {
  return g_real->xSleep(g_real, us);
}
int CurrentTime(sqlite3_vfs*, double* out) {
  return g_real->xCurrentTime(g_real, out);
}
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError(g_real, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

}  // namespace

FaultyDisk::FaultyDisk() {
  RP_CHECK(!g_registered);  // One at a time.
  RP_CHECK(sqlite3_initialize() == SQLITE_OK);
  g_real = sqlite3_vfs_find("unix");
  RP_CHECK(g_real != nullptr && g_real->iVersion >= 2);
  std::memset(&g_vfs, 0, sizeof g_vfs);
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
  g_vfs.mxPathname = g_real->mxPathname;
  g_vfs.zName = "rp-faulty-disk";
  g_vfs.xOpen = Open;
  g_vfs.xDelete = Delete;
  g_vfs.xAccess = Access;
  g_vfs.xFullPathname = FullPathname;
  g_vfs.xDlOpen = DlOpen;
  g_vfs.xDlError = DlError;
  g_vfs.xDlSym = DlSym;
  g_vfs.xDlClose = DlClose;
  g_vfs.xRandomness = Randomness;
  g_vfs.xSleep = SleepUs;
  g_vfs.xCurrentTime = CurrentTime;
  g_vfs.xGetLastError = GetLastError;
  g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  g_fsync_fails = false;
  g_failed_fsyncs = 0;
  g_real_fsyncs = 0;
  RP_CHECK(sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1) == SQLITE_OK);
  g_registered = true;
}

FaultyDisk::~FaultyDisk() {
  g_fsync_fails = false;
  (void)sqlite3_vfs_unregister(&g_vfs);                // Cannot fail for a registered VFS.
  (void)sqlite3_vfs_register(g_real, /*makeDflt=*/1);  // "unix" is the default again.
  g_registered = false;
}

void FaultyDisk::ArmFsyncFailure() {
  g_fsync_fails = true;
}
void FaultyDisk::DisarmFsyncFailure() {
  g_fsync_fails = false;
}
int64_t FaultyDisk::failed_fsyncs() const {
  return g_failed_fsyncs.load();
}
int64_t FaultyDisk::real_fsyncs() const {
  return g_real_fsyncs.load();
}

}  // namespace rp::testing
