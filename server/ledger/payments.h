// The payments table: the payment outcome the ledger accepted for each pay order (at most one).
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::payments {

Result<std::optional<PaymentRecord>> Find(ReadTx& tx, std::string_view pay_order_no);
// A second record of one pay order fails its PRIMARY KEY (Conflict).
Status Insert(Tx& tx, const PaymentRecord& p);

}  // namespace rp::ledger::payments
