#include "common/conservation.h"

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace rp::conservation {
namespace {

struct PacketTally {
  int64_t claimed_cents = 0;
  int64_t claimed_count = 0;
  int64_t refund_cents = 0;
  int64_t refund_orders = 0;
};

void Add(Report* r, std::string kind, int64_t packet_id, int64_t drift, std::string detail) {
  r->violations.push_back({std::move(kind), packet_id, drift, std::move(detail)});
}

// Claims: one per (packet, user), positive amounts, each on a known packet.
std::map<int64_t, PacketTally> TallyClaims(const LedgerSnapshot& s,
                                           const std::set<int64_t>& known_packets, Report* r) {
  std::map<int64_t, PacketTally> tally;
  std::set<std::pair<int64_t, int64_t>> claimers;
  for (const ClaimRecord& c : s.claims) {
    if (!known_packets.count(c.packet_id)) {
      Add(r, "orphan_claim", c.packet_id, c.amount_cents,
          "claim " + std::to_string(c.claim_id) + " names an unknown packet");
    }
    if (c.amount_cents <= 0) {
      Add(r, "bad_amount", c.packet_id, 0,
          "claim " + std::to_string(c.claim_id) + " is not positive");
    }
    if (!claimers.insert({c.packet_id, c.user_id}).second) {
      Add(r, "double_claim", c.packet_id, c.amount_cents,
          "user " + std::to_string(c.user_id) + " claimed twice");
    }
    tally[c.packet_id].claimed_cents += c.amount_cents;
    tally[c.packet_id].claimed_count += 1;
  }
  for (const RefundRecord& f : s.refunds) {
    tally[f.packet_id].refund_cents += f.amount_cents;
    tally[f.packet_id].refund_orders += 1;
  }
  return tally;
}

// Every claim has exactly one transfer order, for the same amount; no order without a claim.
void CheckTransfers(const LedgerSnapshot& s, Report* r) {
  std::map<int64_t, const ClaimRecord*> claims;
  for (const ClaimRecord& c : s.claims) claims[c.claim_id] = &c;
  std::map<int64_t, int> orders;
  std::set<std::string> numbers;
  for (const TransferRecord& t : s.transfers) {
    if (!numbers.insert(t.transfer_no).second) {
      Add(r, "duplicate_transfer", 0, t.amount_cents, "transfer_no " + t.transfer_no + " twice");
    }
    auto it = claims.find(t.claim_id);
    if (it == claims.end()) {
      Add(r, "orphan_transfer", 0, t.amount_cents, "transfer " + t.transfer_no + " has no claim");
      continue;
    }
    if (++orders[t.claim_id] > 1) {
      Add(r, "duplicate_transfer", it->second->packet_id, t.amount_cents,
          "claim " + std::to_string(t.claim_id) + " has more than one transfer");
    }
    if (t.amount_cents != it->second->amount_cents) {
      Add(r, "transfer_amount_mismatch", it->second->packet_id,
          t.amount_cents - it->second->amount_cents, "transfer " + t.transfer_no);
    }
  }
  for (const ClaimRecord& c : s.claims) {
    if (!orders.count(c.claim_id)) {
      Add(r, "missing_transfer", c.packet_id, c.amount_cents,
          "claim " + std::to_string(c.claim_id) + " has no transfer order");
    }
  }
}

void CheckPacket(const PacketRecord& p, const PacketTally& t, Report* r) {
  const int64_t id = p.packet_id;
  if (t.claimed_cents != p.claimed_cents || t.claimed_count != p.claimed_count) {
    Add(r, "claim_sum_mismatch", id, t.claimed_cents - p.claimed_cents,
        "claims sum to " + std::to_string(t.claimed_cents) + " in " +
            std::to_string(t.claimed_count) + " claims; packet row says " +
            std::to_string(p.claimed_cents) + " in " + std::to_string(p.claimed_count));
  }
  if (t.claimed_count > p.count || t.claimed_cents > p.total_cents) {
    Add(r, "over_issued", id, t.claimed_cents - p.total_cents,
        std::to_string(t.claimed_count) + " claims of " + std::to_string(p.count) + " shares");
  }
  if (t.refund_orders > 1) Add(r, "duplicate_refund", id, t.refund_cents, "more than one refund");
  if (!IsFunded(p.status)) {
    if (t.claimed_count > 0 || t.refund_orders > 0) {
      Add(r, "unfunded_movement", id, t.claimed_cents + t.refund_cents,
          "claims or refunds on a packet in state " + p.status);
    }
    return;
  }
  r->funded_cents += p.total_cents;
  r->claimed_cents += t.claimed_cents;
  r->refund_cents += t.refund_cents;
  int64_t open = 0;
  if (p.status == "active") {
    open = p.total_cents - t.claimed_cents - t.refund_cents;
    if (t.refund_orders > 0) Add(r, "early_refund", id, t.refund_cents, "refund on active packet");
  } else if (p.status == "finished" && t.claimed_count != p.count) {
    Add(r, "bad_finish", id, 0, "finished with " + std::to_string(t.claimed_count) + " claims");
  } else if ((p.status == "expired" || p.status == "refunded") && t.refund_orders == 0 &&
             t.claimed_cents != p.total_cents) {
    Add(r, "missing_refund", id, p.total_cents - t.claimed_cents, "expired with no refund order");
    return;
  }
  r->open_cents += open;
  int64_t drift = p.total_cents - (t.claimed_cents + t.refund_cents + open);
  if (drift != 0) {
    Add(r, "unbalanced", id, drift,
        "funded " + std::to_string(p.total_cents) + " != claimed " +
            std::to_string(t.claimed_cents) + " + refunded " + std::to_string(t.refund_cents) +
            " + open " + std::to_string(open));
  }
}

}  // namespace

bool IsFunded(const std::string& status) {
  return status == "active" || status == "finished" || status == "expired" || status == "refunded";
}

int64_t Report::DriftCents() const {
  int64_t sum = 0;
  for (const Violation& v : violations) sum += std::llabs(v.drift_cents);
  return sum;
}

Report Check(const LedgerSnapshot& s) {
  Report r;
  std::set<int64_t> known;
  for (const PacketRecord& p : s.packets) known.insert(p.packet_id);
  std::map<int64_t, PacketTally> tally = TallyClaims(s, known, &r);
  for (const PacketRecord& p : s.packets) {
    ++r.packets;
    CheckPacket(p, tally[p.packet_id], &r);
  }
  CheckTransfers(s, &r);
  return r;
}

std::string Format(const Report& r) {
  std::ostringstream out;
  for (const Violation& v : r.violations) {
    out << "VIOLATION " << v.kind << " packet=" << v.packet_id << " drift_cents=" << v.drift_cents
        << " " << v.detail << "\n";
  }
  out << "conservation: " << (r.ok() ? "OK" : "VIOLATED") << " packets=" << r.packets
      << " funded_cents=" << r.funded_cents << " = claimed_cents=" << r.claimed_cents
      << " + refund_cents=" << r.refund_cents << " + open_cents=" << r.open_cents
      << " violations=" << r.violations.size() << "\n";
  return out.str();
}

}  // namespace rp::conservation

namespace rp::conservation {
namespace {

void ReconcilePayments(const LedgerSnapshot& l, const ExternalRecords& e, FlowTotals* t,
                       Report* r) {
  // (C2C only: B2C packets are funded by subsidies, see ReconcileSubsidies.)
  std::map<std::string, const PaymentRecord*> ledger;
  for (const PaymentRecord& p : l.payments) {
    ledger[p.pay_order_no] = &p;
    if (p.status == "paid") t->paid_cents_ledger += p.amount_cents;
  }
  std::map<std::string, const PacketRecord*> packets;
  for (const PacketRecord& p : l.packets) {
    if (!p.pay_order_no.empty()) packets[p.pay_order_no] = &p;
  }
  std::set<std::string> paid_at_service;
  for (const ExternalPayment& x : e.payments) {
    if (x.status != "paid") continue;
    t->paid_cents_service += x.amount_cents;
    paid_at_service.insert(x.pay_order_no);
    auto it = ledger.find(x.pay_order_no);
    if (it == ledger.end() || it->second->status != "paid") {
      auto packet = packets.find(x.pay_order_no);
      const bool in_flight =
          packet != packets.end() &&
          (packet->second->status == "awaiting_payment" || packet->second->payment_pending);
      if (!in_flight) {
        Add(r, "orphan_payment", packet == packets.end() ? 0 : packet->second->packet_id,
            x.amount_cents, x.pay_order_no + " paid at the service, not accepted by the ledger");
      }
    } else if (it->second->amount_cents != x.amount_cents) {
      Add(r, "payment_amount_mismatch", it->second->packet_id,
          it->second->amount_cents - x.amount_cents, x.pay_order_no);
    }
  }
  for (const PaymentRecord& p : l.payments) {
    if (p.status == "paid" && !paid_at_service.count(p.pay_order_no)) {
      Add(r, "unbacked_payment", p.packet_id, p.amount_cents,
          p.pay_order_no + " paid in the ledger, not at the payment service");
    }
  }
}

void ReconcileTransfers(const LedgerSnapshot& l, const ExternalRecords& e, ReconTotals* rt,
                        Report* r) {
  std::map<int64_t, bool> b2c;  // packet_id -> is B2C
  for (const PacketRecord& p : l.packets) b2c[p.packet_id] = p.kind == "b2c";
  auto flow = [&](int64_t packet_id) { return b2c[packet_id] ? &rt->b2c : &rt->c2c; };
  std::map<std::string, const ClaimRecord*> by_no;  // transfer_no -> claim
  std::map<int64_t, const ClaimRecord*> claims;
  for (const ClaimRecord& c : l.claims) claims[c.claim_id] = &c;
  for (const TransferRecord& o : l.transfers) {
    auto it = claims.find(o.claim_id);
    if (it != claims.end()) by_no[o.transfer_no] = it->second;
  }
  std::set<std::string> executed;
  for (const ExternalTransfer& x : e.transfers) {
    auto it = by_no.find(x.transfer_no);
    (it == by_no.end() ? &rt->c2c : flow(it->second->packet_id))->transferred_cents_wallet +=
        x.amount_cents;
    executed.insert(x.transfer_no);
    if (it == by_no.end()) {
      Add(r, "orphan_transfer", 0, x.amount_cents, x.transfer_no + " has no claim in the ledger");
    } else if (it->second->amount_cents != x.amount_cents || it->second->user_id != x.user_id) {
      Add(r, "transfer_amount_mismatch", it->second->packet_id,
          x.amount_cents - it->second->amount_cents, x.transfer_no);
    }
  }
  for (const auto& [no, c] : by_no) {
    FlowTotals* t = flow(c->packet_id);
    t->claimed_cents += c->amount_cents;
    if (!executed.count(no)) {
      t->transfer_pending_cents += c->amount_cents;
      if (c->status == "transferred") {
        Add(r, "missing_transfer", c->packet_id, c->amount_cents,
            no + " is transferred in the ledger but unknown to the wallet");
      }
    }
  }
}

void ReconcileRefunds(const LedgerSnapshot& l, const ExternalRecords& e, ReconTotals* rt,
                      Report* r) {
  std::map<int64_t, bool> b2c;
  for (const PacketRecord& p : l.packets) b2c[p.packet_id] = p.kind == "b2c";
  std::map<std::string, const RefundRecord*> ledger;
  for (const RefundRecord& f : l.refunds) {
    ledger[f.refund_no] = &f;
    (b2c[f.packet_id] ? rt->b2c : rt->c2c).refund_ordered_cents += f.amount_cents;
  }
  std::map<std::string, int64_t> paid;
  for (const ExternalPayment& x : e.payments) {
    if (x.status == "paid") paid[x.pay_order_no] += x.amount_cents;
  }
  std::map<std::string, int64_t> refunded_per_order;
  std::set<std::string> executed;
  for (const ExternalRefund& x : e.refunds) {
    (x.subsidy_id.empty() ? rt->c2c : rt->b2c).refunded_cents_wallet += x.amount_cents;
    executed.insert(x.refund_no);
    if (!x.pay_order_no.empty()) refunded_per_order[x.pay_order_no] += x.amount_cents;
    auto it = ledger.find(x.refund_no);
    if (it == ledger.end()) {
      Add(r, "orphan_refund", 0, x.amount_cents,
          x.refund_no + " has no refund order in the ledger");
    } else if (it->second->amount_cents != x.amount_cents) {
      Add(r, "refund_amount_mismatch", it->second->packet_id,
          x.amount_cents - it->second->amount_cents, x.refund_no);
    }
  }
  for (const auto& [order, cents] : refunded_per_order) {
    if (cents > paid[order]) Add(r, "over_refund", 0, cents - paid[order], order);
  }
  for (const RefundRecord& f : l.refunds) {
    if (executed.count(f.refund_no)) continue;
    (b2c[f.packet_id] ? rt->b2c : rt->c2c).refund_pending_cents += f.amount_cents;
    if (f.status == "refunded") {
      Add(r, "missing_refund_at_wallet", f.packet_id, f.amount_cents,
          f.refund_no + " is refunded in the ledger but unknown to the wallet");
    }
  }
}

void ReconcileSubsidies(const LedgerSnapshot& l, const ExternalRecords& e, ReconTotals* rt,
                        Report* r) {
  IssuanceTotals& t = rt->issuance;
  for (const ExternalRound& round : e.rounds) {
    t.issued_cents_service += round.issued_cents;
    t.returned_cents_service += round.returned_cents;
    if (round.issued_cents - round.returned_cents > round.budget_cents) {
      Add(r, "over_issued_round", 0, round.issued_cents - round.returned_cents - round.budget_cents,
          "round " + round.round + " issued beyond its budget");
    }
  }
  std::map<std::string, const ExternalSubsidy*> service;
  for (const ExternalSubsidy& x : e.subsidies) service[x.subsidy_id] = &x;
  std::map<int64_t, const PacketRecord*> packets;
  for (const PacketRecord& p : l.packets) packets[p.packet_id] = &p;
  std::map<std::string, int> funding;  // subsidy_id -> packets it funds
  for (const PacketRecord& p : l.packets) {
    if (p.kind != "b2c") continue;
    if (++funding[p.subsidy_id] > 1) {
      Add(r, "subsidy_double_use", p.packet_id, p.total_cents, p.subsidy_id + " funds two packets");
    }
    if (IsFunded(p.status)) rt->b2c.paid_cents_ledger += p.total_cents;
  }
  for (const SubsidyRecord& s : l.subsidies) {
    t.persisted_cents_ledger += s.amount_cents;
    auto packet = packets.find(s.packet_id);
    const bool funds = packet != packets.end() && IsFunded(packet->second->status);
    if (funds) {
      t.used_cents_ledger += s.amount_cents;
      if (packet->second->total_cents != s.amount_cents) {
        Add(r, "b2c_amount_mismatch", s.packet_id, packet->second->total_cents - s.amount_cents,
            s.subsidy_id);
      }
    }
    if (!e.has_reward) continue;
    auto x = service.find(s.subsidy_id);
    if (x == service.end()) {
      Add(r, "unknown_subsidy", s.packet_id, s.amount_cents, s.subsidy_id + " was never issued");
      continue;
    }
    rt->b2c.paid_cents_service += funds ? x->second->amount_cents : 0;
    if (x->second->amount_cents != s.amount_cents) {
      Add(r, "subsidy_amount_mismatch", s.packet_id, s.amount_cents - x->second->amount_cents,
          s.subsidy_id);
    }
    if (s.state == "used" && x->second->state != "used") {
      Add(r, "subsidy_not_used_at_service", s.packet_id, 0,
          s.subsidy_id + " is used in the ledger, " + x->second->state + " at the service");
    }
  }
}

}  // namespace

Report Reconcile(const LedgerSnapshot& ledger, const ExternalRecords& external,
                 ReconTotals* totals) {
  Report r = Check(ledger);
  ReconTotals t;
  ReconcilePayments(ledger, external, &t.c2c, &r);
  ReconcileTransfers(ledger, external, &t, &r);
  ReconcileRefunds(ledger, external, &t, &r);
  ReconcileSubsidies(ledger, external, &t, &r);
  if (totals != nullptr) *totals = t;
  return r;
}

}  // namespace rp::conservation
