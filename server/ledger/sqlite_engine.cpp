#include "server/ledger/sqlite_engine.h"

#include <prometheus/histogram.h>

#include <filesystem>

#include "server/ledger/schema.h"
#include "server/ledger/sqlite_read_pool.h"
#include "server/ledger/sqlite_writer.h"

namespace rp::ledger {
namespace {

class SqliteEngine final : public Engine {
 public:
  SqliteEngine(std::unique_ptr<SqliteWriter> writer, std::unique_ptr<SqliteReadPool> reads)
      : writer_(std::move(writer)), reads_(std::move(reads)) {}
  ~SqliteEngine() override { Stop(); }

  Status Submit(WriteJob job) override {
    if (!writer_) return Internal("the ledger was opened read-only");
    return writer_->Submit(std::move(job));
  }
  Status Read(const std::function<Status(ReadTx&)>& fn) override { return reads_->With(fn); }
  EngineStats Stats() const override { return writer_ ? writer_->Stats() : EngineStats{}; }
  Status Writable() const override { return writer_ ? writer_->Writable() : Status::Ok(); }
  void Stop() override {
    if (writer_) writer_->Stop();
  }

  void RegisterMetrics(metrics::Hub& hub, const std::string& scheme) override {
    prometheus::Histogram& wait =
        prometheus::BuildHistogram()
            .Name("rp_lock_wait_seconds")
            .Help("Time a claim waited for its packet's lock before running")
            .Register(hub.registry())
            .Add({{"scheme", scheme}}, metrics::LatencyBuckets());
    // Slow commits (a stalled disk, a long checkpoint) show here before anywhere else.
    prometheus::Histogram& commit = prometheus::BuildHistogram()
                                        .Name("rp_ledger_commit_seconds")
                                        .Help("Time one ledger COMMIT took (WAL write and fsync)")
                                        .Register(hub.registry())
                                        .Add({}, metrics::LatencyBuckets());
    if (writer_) {
      writer_->SetLockWaitObserver(
          [&wait](int64_t ns) { wait.Observe(static_cast<double>(ns) / 1e9); });
      writer_->SetCommitObserver(
          [&commit](int64_t ns) { commit.Observe(static_cast<double>(ns) / 1e9); });
    }
    hub.AddCollector([this, scheme](metrics::Writer& w) { Collect(w, scheme); });
  }

 private:
  void Collect(metrics::Writer& w, const std::string& scheme) const {
    WriteEngineMetrics(w, Stats(), scheme);
  }

  std::unique_ptr<SqliteWriter> writer_;  // Null when read-only.
  std::unique_ptr<SqliteReadPool> reads_;
};

}  // namespace

Result<std::unique_ptr<Engine>> OpenSqliteEngine(const LedgerOptions& o, bool read_only) {
  std::unique_ptr<SqliteWriter> writer;
  if (!read_only) {
    SqliteConnectionOptions wo;
    wo.synchronous = o.synchronous;
    Result<std::unique_ptr<SqliteConnection>> conn = SqliteConnection::Open(o.path, wo);
    if (!conn.ok()) return conn.status();
    Status s = Migrate(**conn);
    if (!s.ok()) return s;
    writer = std::make_unique<SqliteWriter>(
        std::move(conn.value()), SqliteWriterOptions{o.writer_queue_max, o.writer_batch_max, 50});
  }
  Result<std::unique_ptr<SqliteReadPool>> reads =
      SqliteReadPool::Open(o.path, o.read_connections, o.read_wait_ms);
  if (!reads.ok()) return reads.status();
  return std::unique_ptr<Engine>(new SqliteEngine(std::move(writer), std::move(reads.value())));
}

}  // namespace rp::ledger
