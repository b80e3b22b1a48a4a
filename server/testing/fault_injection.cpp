#include "server/testing/fault_injection.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace rp::testing {
namespace {

class PhantomClaims final : public core::ClaimScheme {
 public:
  explicit PhantomClaims(std::unique_ptr<core::ClaimScheme> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  core::SchemeStats Stats() const override { return inner_->Stats(); }
  Status PrepareNewPacket(ledger::Tx& tx, const ledger::PacketRecord& p) override {
    return inner_->PrepareNewPacket(tx, p);
  }
  void NewPacketCommitted(const ledger::PacketRecord& p) override { inner_->NewPacketCommitted(p); }
  Status DropCachedState(const std::vector<int64_t>& ids) override {
    return inner_->DropCachedState(ids);
  }

  void Claim(int64_t packet_id, int64_t user_id, core::ClaimDone done) override {
    inner_->Claim(packet_id, user_id,
                  [this, packet_id, user_id, done](Result<core::ClaimOutcome> r) {
                    if (r.ok() || !r.status().Is(Error::kSoldOut) || ++sold_out_ % 10 != 0)
                      return done(std::move(r));
                    core::ClaimOutcome lie;
                    lie.claim = {900'000'000 + sold_out_.load(),       packet_id, user_id, 1, 1,
                                 ledger::ClaimState::kTransferPending, 0};
                    done(lie);
                  });
  }

 private:
  std::unique_ptr<core::ClaimScheme> inner_;
  std::atomic<int64_t> sold_out_{0};
};

}  // namespace

std::unique_ptr<core::ClaimScheme> WrapForFaultInjection(
    std::unique_ptr<core::ClaimScheme> scheme) {
  const char* bug = std::getenv("RP_INJECT_BUG");
  if (bug != nullptr && std::string(bug) == "phantom_claim") {
    return std::make_unique<PhantomClaims>(std::move(scheme));
  }
  return scheme;
}

}  // namespace rp::testing
