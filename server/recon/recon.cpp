#include "server/recon/recon.h"

#include <spdlog/spdlog.h>

#include <set>

#include "server/base/service_client.h"
#include "server/query/packet_query.h"

namespace rp::recon {
namespace {

using nlohmann::json;

Result<json> Export(const std::string& url, const std::string& path, int64_t deadline_ms) {
  base::ServiceClient client(url, deadline_ms);
  Result<base::ServiceReply> r = client.Get(path);
  if (!r.ok()) return r.status();
  if (r->status != 200 || !r->body.is_object()) {
    return Unavailable("export_failed", url + path + " answered HTTP " + std::to_string(r->status));
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
  try {
    if (!o.payment_url.empty()) {
      Result<json> pay = Export(o.payment_url, "/pay/export", o.call_deadline_ms);
      if (!pay.ok()) return pay.status();
      for (const json& x : pay->at("orders")) {
        e.payments.push_back({x.at("pay_order_no"), x.at("status"), x.at("amount_cents")});
      }
    }
    if (!o.wallet_url.empty()) {
      Result<json> wallet = Export(o.wallet_url, "/wallet/export", o.call_deadline_ms);
      if (!wallet.ok()) return wallet.status();
      for (const json& x : wallet->at("transfers")) {
        e.transfers.push_back({x.at("transfer_no"), x.at("user_id"), x.at("amount_cents")});
      }
      for (const json& x : wallet->at("refunds")) {
        e.refunds.push_back({x.at("refund_no"), x.value("pay_order_no", ""), x.at("amount_cents"),
                             x.value("subsidy_id", "")});
      }
    }
    if (!o.reward_url.empty()) {
      Result<json> reward = Export(o.reward_url, "/reward/export", o.call_deadline_ms);
      if (!reward.ok()) return reward.status();
      e.has_reward = true;
      for (const json& x : reward->at("subsidies")) {
        e.subsidies.push_back(
            {x.at("subsidy_id"), x.at("round"), x.at("amount_cents"), x.at("state")});
      }
      for (const json& x : reward->at("rounds")) {
        e.rounds.push_back(
            {x.at("round"), x.at("budget_cents"), x.at("issued_cents"), x.at("returned_cents")});
      }
    }
  } catch (const json::exception& ex) {
    return Unavailable("export_malformed", std::string("service export: ") + ex.what());
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

Result<ReconResult> Run(query::ReadPool& reads, const ReconOptions& options, const Clock& clock) {
  // Ledger, then the services, then the ledger again. Everything a service did before the
  // first snapshot is compared with it; what the services hold for rows that appeared in the
  // second snapshot only happened meanwhile and is in flight; anything else they hold that the
  // ledger does not know at all is an orphan.
  Result<conservation::LedgerSnapshot> ledger = query::Snapshot(reads);
  if (!ledger.ok()) return ledger.status();
  Result<conservation::ExternalRecords> external = FetchExternal(options);
  if (!external.ok()) return external.status();
  Result<conservation::LedgerSnapshot> after = query::Snapshot(reads);
  if (!after.ok()) return after.status();
  DropNewer(*ledger, *after, &*external);
  RestrictToWindow(options.since_ms, &*ledger, &*external);
  ReconResult result;
  result.at_ms = clock.NowMs();
  result.report = conservation::Reconcile(*ledger, *external, &result.totals);
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

PeriodicRecon::PeriodicRecon(query::ReadPool* reads, ReconOptions options, const Clock* clock,
                             int64_t interval_ms)
    : reads_(reads), options_(std::move(options)), clock_(clock), interval_ms_(interval_ms) {}

PeriodicRecon::~PeriodicRecon() {
  Stop();
}

void PeriodicRecon::Start() {
  periodic_ = std::make_unique<Periodic>([this] {
    Result<ReconResult> r = Run(*reads_, options_, *clock_);
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

}  // namespace rp::recon
