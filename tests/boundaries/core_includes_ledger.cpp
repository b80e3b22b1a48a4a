// Must compile: the control case, a right-way include through the same mechanism.
#include "server/core/claim_tx.h"
#include "server/ledger/packets.h"
