// Must NOT compile: rp-server never starts processes (the launchers of redis-server, PostgreSQL
// and HAProxy are the tools' and the tests'), so their headers are not on the server's path.
#include "common/process/pg_process.h"
#include "server/app/app.h"
