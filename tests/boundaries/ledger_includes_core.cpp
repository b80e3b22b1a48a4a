// Must NOT compile: the ledger sits below core.
#include "server/ledger/records.h"
#include "server/core/claim_tx.h"
