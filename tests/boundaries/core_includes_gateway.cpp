// Must NOT compile: core sits below the gateway, so a gateway header is not on its include path.
#include "server/core/claim_tx.h"
#include "server/gateway/api.h"
