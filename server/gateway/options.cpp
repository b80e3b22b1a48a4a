#include "server/gateway/options.h"

namespace rp::gateway {

void Declare(options::Registry& r, GatewayOptions* o) {
  r.String("server.host", &o->host).Help("address to listen on");
  r.Int("server.port", &o->port).Range(0, 65535).Flag("--port").Help("port; 0 picks a free one");
  r.Int("server.threads", &o->threads).Range(1, 256).Flag("--threads").Help("HTTP I/O threads");
  r.Int("server.body_bytes_max", &o->body_bytes_max)
      .Range(1024, 1 << 24)
      .Unit("bytes")
      .Help("largest request body; a larger one gets 413 and the connection closes");
  r.Int("server.header_bytes_max", &o->header_bytes_max)
      .Range(1024, 1 << 20)
      .Unit("bytes")
      .Help("largest request line plus headers; larger gets 431 and the connection closes");
  r.Int("server.connections_max", &o->connections_max)
      .Range(1, 1'000'000)
      .Help("open connections at most; beyond it new ones are closed at once");
  r.Int("server.idle_timeout_ms", &o->idle_timeout_ms)
      .Range(100, 3'600'000)
      .Unit("ms")
      .Help("a connection that sends nothing for this long is closed");
  r.Int("server.header_timeout_ms", &o->header_timeout_ms)
      .Range(100, 600'000)
      .Unit("ms")
      .Help(
          "from a request's first byte, the time its head and body have to arrive; a slower "
          "client gets 408 and the connection closes");
  r.Int("server.shutdown_grace_ms", &o->shutdown_grace_ms)
      .Range(0, 600000)
      .Unit("ms")
      .Help("on SIGTERM, how long in-flight requests may take");
  r.String("secrets.auth", &o->auth_secret)
      .Secret()
      .Env("RP_AUTH_SECRET")
      .Help("HMAC key of bearer tokens (>= 16 bytes)");
  r.String("secrets.payment", &o->payment_secret)
      .Secret()
      .Env("RP_PAYMENT_SECRET")
      .Help("HMAC key of payment callbacks (>= 16 bytes)");
  r.Rule([o] { return o->auth_secret.size() >= 16; },
         "auth secret missing or shorter than 16 bytes (secrets.auth or RP_AUTH_SECRET)");
  r.Rule([o] { return o->payment_secret.size() >= 16; },
         "payment secret missing or shorter than 16 bytes (secrets.payment or RP_PAYMENT_SECRET)");
}

}  // namespace rp::gateway
