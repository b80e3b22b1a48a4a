#include "server/recon/recon.h"

#include <spdlog/spdlog.h>

#include <set>

#include "common/downstream.h"
#include "server/base/service_client.h"
#include "server/ledger/snapshot.h"

namespace rp::recon {
namespace {

using nlohmann::json;

Result<json> Export(const std::string& url, const std::string& path, int64_t deadline_ms) {
  base::ServiceClient client(url, deadline_ms);
  Result<base::ServiceReply> r = client.Get(path);
  if (!r.ok()) return r.status();
  if (r->status != 200 || !r->body.is_object()) {
    return Status(Error::kExportFailed, url + path + " answered HTTP " + std::to_string(r->status));
  }
  return std::move(r->body);
}

template <typename T, typename Pred>
void KeepIf(std::vector<T>* v, Pred keep) {
  std::erase_if(*v, [&](const T& x) { return !keep(x); });
}

}  // namespace

Result<conservation::ExternalRecords> FetchExternal(const ReconOptions& o) {
  conservation::ExternalRecords e;
  struct Source {
    const std::string& url;
    const char* path;
    Status (*parse)(const json&, conservation::ExternalRecords*);
  };
  for (const Source& src :
       {Source{o.payment_url, downstream::kPayExport, &downstream::ParsePayExport},
        Source{o.wallet_url, downstream::kWalletExport, &downstream::ParseWalletExport},
        Source{o.reward_url, downstream::kRewardExport, &downstream::ParseRewardExport}}) {
    if (src.url.empty()) continue;
    Result<json> body = Export(src.url, src.path, o.call_deadline_ms);
    if (!body.ok()) return body.status();
    Status s = src.parse(*body, &e);
    if (!s.ok()) return s;
  }
  return e;
}

void RestrictToWindow(int64_t since_ms, conservation::LedgerSnapshot* l,
                      conservation::ExternalRecords* e) {
  if (since_ms <= 0) return;
  std::set<int64_t> packets;
  std::set<std::string> all_keys, window_keys;
  for (const auto& p : l->packets) {
    all_keys.insert(p.pay_order_no);
    if (p.created_at_ms >= since_ms)
      packets.insert(p.packet_id), window_keys.insert(p.pay_order_no);
  }
  std::set<int64_t> claims;
  for (const auto& c : l->claims) {
    if (packets.count(c.packet_id)) claims.insert(c.claim_id);
  }
  for (const auto& t : l->transfers) {
    all_keys.insert(t.transfer_no);
    if (claims.count(t.claim_id)) window_keys.insert(t.transfer_no);
  }
  for (const auto& f : l->refunds) {
    all_keys.insert(f.refund_no);
    if (packets.count(f.packet_id)) window_keys.insert(f.refund_no);
  }
  auto keep = [&](const std::string& key) {
    return window_keys.count(key) || !all_keys.count(key);
  };
  KeepIf(&l->packets, [&](const auto& p) { return packets.count(p.packet_id) > 0; });
  KeepIf(&l->claims, [&](const auto& c) { return packets.count(c.packet_id) > 0; });
  KeepIf(&l->transfers, [&](const auto& t) { return claims.count(t.claim_id) > 0; });
  KeepIf(&l->refunds, [&](const auto& f) { return packets.count(f.packet_id) > 0; });
  KeepIf(&l->payments, [&](const auto& y) { return packets.count(y.packet_id) > 0; });
  KeepIf(&l->subsidies,
         [&](const auto& u) { return u.packet_id == 0 || packets.count(u.packet_id) > 0; });
  KeepIf(&e->payments, [&](const auto& x) { return keep(x.pay_order_no); });
  KeepIf(&e->transfers, [&](const auto& x) { return keep(x.transfer_no); });
  KeepIf(&e->refunds, [&](const auto& x) { return keep(x.refund_no); });
}

namespace {

std::set<std::string> KeysOf(const conservation::LedgerSnapshot& l) {
  std::set<std::string> keys;
  for (const auto& p : l.packets) keys.insert(p.pay_order_no);
  for (const auto& t : l.transfers) keys.insert(t.transfer_no);
  for (const auto& f : l.refunds) keys.insert(f.refund_no);
  return keys;
}

// Records the services made for ledger rows newer than `before` are in flight, not orphans.
void DropNewer(const conservation::LedgerSnapshot& before,
               const conservation::LedgerSnapshot& after, conservation::ExternalRecords* e) {
  const std::set<std::string> old_keys = KeysOf(before), new_keys = KeysOf(after);
  auto keep = [&](const std::string& k) { return old_keys.count(k) || !new_keys.count(k); };
  KeepIf(&e->payments, [&](const auto& x) { return keep(x.pay_order_no); });
  KeepIf(&e->transfers, [&](const auto& x) { return keep(x.transfer_no); });
  KeepIf(&e->refunds, [&](const auto& x) { return keep(x.refund_no); });
}

}  // namespace

Result<conservation::LedgerSnapshot> Snapshot(ledger::Engine& ledger) {
  conservation::LedgerSnapshot snap;
  Status s = ledger.Read([&](ledger::ReadTx& tx) { return ledger::LoadSnapshot(tx, &snap); });
  if (!s.ok()) return s;
  return snap;
}

Result<ReconResult> Run(ledger::Engine& ledger, const ReconOptions& options, const Clock& clock) {
  // Ledger, then the services, then the ledger again. Everything a service did before the
  // first snapshot is compared with it; what the services hold for rows that appeared in the
  // second snapshot only happened meanwhile and is in flight; anything else they hold that the
  // ledger does not know at all is an orphan.
  Result<conservation::LedgerSnapshot> before = Snapshot(ledger);
  if (!before.ok()) return before.status();
  Result<conservation::ExternalRecords> external = FetchExternal(options);
  if (!external.ok()) return external.status();
  Result<conservation::LedgerSnapshot> after = Snapshot(ledger);
  if (!after.ok()) return after.status();
  DropNewer(*before, *after, &*external);
  RestrictToWindow(options.since_ms, &*before, &*external);
  ReconResult result;
  result.at_ms = clock.NowMs();
  result.report = conservation::Reconcile(*before, *external, &result.totals);
  return result;
}

static json FlowJson(const conservation::FlowTotals& t) {
  return {{"paid_cents_service", t.paid_cents_service},
          {"paid_cents_ledger", t.paid_cents_ledger},
          {"claimed_cents", t.claimed_cents},
          {"transferred_cents_wallet", t.transferred_cents_wallet},
          {"transfer_pending_cents", t.transfer_pending_cents},
          {"refund_ordered_cents", t.refund_ordered_cents},
          {"refunded_cents_wallet", t.refunded_cents_wallet},
          {"refund_pending_cents", t.refund_pending_cents}};
}

json ToJson(const ReconResult& r) {
  const conservation::IssuanceTotals& i = r.totals.issuance;
  json discrepancies = json::array();
  for (const auto& v : r.report.violations) {
    discrepancies.push_back({{"kind", v.kind},
                             {"packet_id", v.packet_id},
                             {"drift_cents", v.drift_cents},
                             {"detail", v.detail}});
  }
  return {{"clean", r.clean()},
          {"at_ms", r.at_ms},
          {"drift_cents", r.report.DriftCents()},
          {"discrepancy_count", r.report.violations.size()},
          {"ledger",
           {{"packets", r.report.packets},
            {"funded_cents", r.report.funded_cents},
            {"claimed_cents", r.report.claimed_cents},
            {"refund_cents", r.report.refund_cents},
            {"open_cents", r.report.open_cents}}},
          {"c2c", FlowJson(r.totals.c2c)},
          {"b2c", FlowJson(r.totals.b2c)},
          {"b2c_issuance",
           {{"issued_cents_service", i.issued_cents_service},
            {"returned_cents_service", i.returned_cents_service},
            {"persisted_cents_ledger", i.persisted_cents_ledger},
            {"used_cents_ledger", i.used_cents_ledger}}},
          {"discrepancies", std::move(discrepancies)}};
}

PeriodicRecon::PeriodicRecon(ledger::Engine* ledger, ReconOptions options, const Clock* clock,
                             int64_t interval_ms, base::Degrader* degrader)
    : ledger_(ledger),
      options_(std::move(options)),
      clock_(clock),
      interval_ms_(interval_ms),
      degrader_(degrader) {}

PeriodicRecon::~PeriodicRecon() {
  Stop();
}

void PeriodicRecon::Start() {
  periodic_ = std::make_unique<Periodic>("rp-recon", [this] {
    // Scheduled recon is non-core: degraded, this round is skipped (GET /admin/recon still runs).
    if (degrader_ != nullptr && !degrader_->Start(base::Feature::kRecon)) return interval_ms_;
    const int64_t start_ns = MonotonicNs();
    Result<ReconResult> r = Run(*ledger_, options_, *clock_);
    if (degrader_ != nullptr) {
      degrader_->Finish(base::Feature::kRecon, r.ok(), (MonotonicNs() - start_ns) / 1'000'000);
    }
    if (!r.ok()) spdlog::warn("periodic recon failed: {}", r.status().ToString());
    if (r.ok() && !r->clean()) {
      spdlog::error("recon: {} discrepancies, drift {} cents", r->report.violations.size(),
                    r->report.DriftCents());
    }
    if (r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = std::move(r.value());
    }
    return interval_ms_;
  });
  periodic_->Start(interval_ms_);
}

void PeriodicRecon::Stop() {
  if (periodic_) periodic_->Stop();
}

std::optional<ReconResult> PeriodicRecon::Last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void PeriodicRecon::RegisterMetrics(metrics::Hub& hub) const {
  hub.AddCollector([this](metrics::Writer& w) {
    std::optional<ReconResult> last = Last();
    if (!last) return;
    w.Gauge("recon_drift_cents", "Cents off in the last periodic reconciliation (sum of |drift|)",
            static_cast<double>(last->report.DriftCents()));
    w.Gauge("recon_discrepancies", "Discrepancies found by the last periodic reconciliation",
            static_cast<double>(last->report.violations.size()));
  });
}

void ReconRunner::Run(int64_t since_ms, std::function<void(Result<ReconResult>)> done) {
  ReconOptions o = options_;
  o.since_ms = since_ms;
  Status s = pool_->Submit(
      [this, o, done] {
        Result<ReconResult> r = Internal("no result");
        try {
          r = recon::Run(*ledger_, o, *clock_);
        } catch (const std::exception& e) {
          spdlog::error("reconciliation failed with an exception: {}", e.what());
          r = Internal("unexpected error; see the server log");
        }
        done(std::move(r));
      },
      [done](Status refused) { done(std::move(refused)); });
  if (!s.ok()) done(s);
}

void Declare(options::Registry& r, ReconConfig* o) {
  r.Int("recon.interval_ms", &o->interval_ms)
      .Range(0, 86'400'000)
      .Unit("ms")
      .Help("period of the server's own reconciliation; 0: off (GET /admin/recon still works)");
  r.Rule([o] { return o->interval_ms == 0 || o->interval_ms >= 100; },
         "recon.interval_ms must be 0 (off) or >= 100");
}

}  // namespace rp::recon
