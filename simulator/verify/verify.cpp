#include "simulator/verify/verify.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/api/api_client.h"
#include "common/conservation.h"

namespace rp::sim {
namespace {

using nlohmann::json;
constexpr size_t kViolationsKept = 50;  // The report lists the first ones; the count is exact.

// "2026-11-25T20:15:03.123Z" -> ms since the epoch; 0 when it does not parse.
int64_t ParseTimeMs(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

// Final, or legitimately still open: active with its expiry comfortably ahead, so it owes no
// refund yet. Anything else (awaiting payment, expired but not refunded) is still moving.
bool Settled(const json& packet) {
  const std::string status = packet.value("status", "");
  if (status == "finished" || status == "refunded" || status == "closed") return true;
  const int64_t now_ms = static_cast<int64_t>(std::time(nullptr)) * 1000;
  return status == "active" && ParseTimeMs(packet.value("expires_at", "")) > now_ms + 5000;
}

// Reads back through the API: packets as their sender, the recon report as an admin.
class Reader {
 public:
  explicit Reader(const Target& t) : client_(t.host, t.port, {t.auth_secret, t.payment_secret}) {}
  json Get(const std::string& path, int64_t user, int* status) {
    api::Reply r = client_.Get(path, user);
    *status = r.status;
    return r.body;
  }

 private:
  api::Client client_;
};

bool Drained(const json& recon) {
  for (const char* flow : {"c2c", "b2c"}) {
    if (!recon.contains(flow)) return false;
    if (recon[flow].value("transfer_pending_cents", int64_t{1}) != 0 ||
        recon[flow].value("refund_pending_cents", int64_t{0}) != 0) {
      return false;
    }
  }
  return true;
}

// Waits until every observed packet is settled and the async work has drained (or time is up).
std::map<int64_t, json> Settle(const Observed& o, Reader& api, const VerifyOptions& opt,
                               json* recon) {
  std::map<int64_t, json> rows;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(opt.settle_wait_s_max);
  for (;;) {
    bool all = true;
    for (const auto& [id, p] : o.packets) {
      auto it = rows.find(id);
      if (it != rows.end() && Settled(it->second)) continue;
      int status = 0;
      json row = api.Get("/v1/packets/" + std::to_string(id), p.sender_id, &status);
      if (status == 200) rows[id] = row;
      all = all && status == 200 && Settled(row);
    }
    int status = 0;
    *recon = api.Get("/admin/recon", 0, &status);
    const bool drained = status == 200 && Drained(*recon);
    if ((all && drained) || std::chrono::steady_clock::now() >= deadline) return rows;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

VerificationReport Verify(const Observed& o, const Target& t, const VerifyOptions& opt) {
  VerificationReport rep;
  Reader api(t);
  json recon;
  std::map<int64_t, json> rows = Settle(o, api, opt, &recon);
  auto violation = [&rep](std::string v) {
    if (rep.violations.size() < kViolationsKept) rep.violations.push_back(std::move(v));
  };
  for (const std::string& a : o.anomalies) violation("contradictory answers: " + a);

  conservation::LedgerSnapshot snap;
  std::map<int64_t, std::map<int64_t, conservation::ClaimRecord>> claims_by_packet;
  for (const auto& [id, p] : o.packets) {
    auto row = rows.find(id);
    if (row == rows.end()) {
      violation("acknowledged packet " + std::to_string(id) + " cannot be read back");
      continue;
    }
    const json& r = row->second;
    const std::string status = r.value("status", "");
    rep.packets_unsettled += Settled(r) ? 0 : 1;
    if (r.value("total_cents", int64_t{0}) != p.total_cents ||
        r.value("count", int64_t{0}) != p.count) {
      violation("packet " + std::to_string(id) + " reads back with another total or count");
    }
    snap.packets.push_back({id, status, r.value("total_cents", int64_t{0}),
                            r.value("count", int64_t{0}), r.value("claimed_cents", int64_t{0}),
                            r.value("claimed_count", int64_t{0}), "", 0, p.kind, ""});
    std::string cursor;
    for (int page = 0; page < 200; ++page) {  // 200 pages x 100 = the 10,000-share maximum.
      int code = 0;
      json c = api.Get("/v1/packets/" + std::to_string(id) + "/claims?limit=100" +
                           (cursor.empty() ? "" : "&cursor=" + cursor),
                       p.sender_id, &code);
      if (code != 200) {
        violation("claims of packet " + std::to_string(id) + " unreadable: HTTP " +
                  std::to_string(code));
        break;
      }
      for (const json& cl : c["claims"]) {
        conservation::ClaimRecord rec{cl.value("claim_id", int64_t{0}), id,
                                      cl.value("user_id", int64_t{0}),
                                      cl.value("amount_cents", int64_t{0}), ""};
        claims_by_packet[id][rec.user_id] = rec;
        snap.claims.push_back(rec);
      }
      if (!c.contains("next_cursor") || c["next_cursor"].is_null()) break;
      cursor = c["next_cursor"].get<std::string>();
    }
  }
  rep.packets_checked = static_cast<int64_t>(snap.packets.size());
  rep.claims_checked = static_cast<int64_t>(snap.claims.size());
  rep.claims_acknowledged = static_cast<int64_t>(o.claims.size());

  // Every acknowledged claim is in the ledger as it was acknowledged.
  for (const auto& [key, c] : o.claims) {
    auto& by_user = claims_by_packet[c.packet_id];
    auto it = by_user.find(c.user_id);
    if (it == by_user.end()) {
      violation("lost claim: user " + std::to_string(c.user_id) + " was granted claim " +
                std::to_string(c.claim_id) + " on packet " + std::to_string(c.packet_id));
    } else if (it->second.claim_id != c.claim_id || it->second.amount_cents != c.amount_cents) {
      violation("claim " + std::to_string(c.claim_id) + " reads back as claim " +
                std::to_string(it->second.claim_id) + " of " +
                std::to_string(it->second.amount_cents) + " cents, granted " +
                std::to_string(c.amount_cents));
    }
  }

  // Transfers and refunds as the wallet executed them.
  std::map<std::string, const conservation::ClaimRecord*> claim_by_transfer;
  for (const auto& c : snap.claims) claim_by_transfer["TR" + std::to_string(c.claim_id)] = &c;
  if (!t.mocks_url.empty()) {
    httplib::Client wallet(t.mocks_url);
    wallet.set_read_timeout(60, 0);
    auto w = wallet.Get("/wallet/export");
    if (!w || w->status != 200) {
      violation("the wallet's records (rp-mock /wallet/export) are unreadable");
    } else {
      rep.transfers_checked = true;
      const json e = json::parse(w->body, nullptr, false);
      for (const json& tr : e["transfers"]) {
        auto it = claim_by_transfer.find(tr.value("transfer_no", ""));
        if (it == claim_by_transfer.end()) continue;  // A packet the simulator did not see.
        snap.transfers.push_back(
            {it->first, it->second->claim_id, tr.value("amount_cents", int64_t{0})});
      }
      for (const json& rf : e["refunds"]) {
        const std::string no = rf.value("refund_no", "");
        if (no.rfind("RF", 0) != 0) continue;
        const int64_t packet = std::atoll(no.c_str() + 2);
        if (!o.packets.count(packet)) continue;
        snap.refunds.push_back({no, packet, rf.value("amount_cents", int64_t{0}), "refunded"});
      }
    }
  }
  if (!rep.transfers_checked) {  // No wallet to ask: only the per-packet sums are checked.
    for (const auto& c : snap.claims) {
      snap.transfers.push_back({"TR" + std::to_string(c.claim_id), c.claim_id, c.amount_cents});
    }
  }
  const conservation::Report report = conservation::Check(snap);
  for (const auto& v : report.violations) {
    violation(v.kind + " on packet " + std::to_string(v.packet_id) + ": " + v.detail);
  }
  if (recon.is_object() && recon.contains("clean")) {
    rep.recon_ran = true;
    rep.recon_clean = recon.value("clean", false);
    rep.recon_drift_cents = recon.value("drift_cents", int64_t{0});
    rep.recon_discrepancies = recon.value("discrepancy_count", int64_t{0});
    if (!rep.recon_clean) {
      violation("reconciliation: " + std::to_string(rep.recon_discrepancies) +
                " discrepancies, drift " + std::to_string(rep.recon_drift_cents) + " cents");
      int listed = 0;
      for (const json& d : recon.value("discrepancies", json::array())) {
        if (++listed > 10) break;
        violation("reconciliation: " + d.value("kind", "") + " on packet " +
                  std::to_string(d.value("packet_id", int64_t{0})) + ": " + d.value("detail", ""));
      }
    }
  } else {
    violation("reconciliation (/admin/recon) did not answer");
  }
  if (rep.packets_unsettled > 0) {
    violation(std::to_string(rep.packets_unsettled) + " packets still open after " +
              std::to_string(opt.settle_wait_s_max) + " s (expiry/refund did not finish)");
  }
  rep.ok = rep.violations.empty() && report.violations.empty() && o.anomalies.empty();
  return rep;
}

}  // namespace rp::sim
