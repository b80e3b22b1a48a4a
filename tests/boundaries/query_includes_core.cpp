// Must NOT compile: query and core are siblings over the ledger; neither includes the other.
#include "server/query/packet_query.h"
#include "server/core/claim_tx.h"
