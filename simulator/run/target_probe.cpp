#include "simulator/run/target_probe.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/redact.h"

namespace rp::sim {
namespace {

// The first bytes of what came back, on one line, for the message.
std::string Excerpt(const std::string& body) {
  constexpr size_t kShownMax = 80;
  std::string out = body.substr(0, kShownMax);
  for (char& ch : out) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  return body.size() > kShownMax ? out + "..." : out;
}

}  // namespace

Status ProbeRpServer(const std::string& host, int port, int timeout_s) {
  const std::string url = RedactSecrets("http://" + host + ":" + std::to_string(port));
  const std::string not_ours = url + " is not an rp-server: GET /healthz ";
  httplib::Client client(host, port);
  client.set_connection_timeout(timeout_s, 0);
  client.set_read_timeout(timeout_s, 0);
  client.set_write_timeout(timeout_s, 0);
  httplib::Result r = client.Get("/healthz");
  if (!r) {
    const httplib::Error e = r.error();
    std::string what = "got no answer (" + httplib::to_string(e) + ")";
    if (e == httplib::Error::Connection) what = "found nothing listening (connection refused)";
    if (e == httplib::Error::Read || e == httplib::Error::ConnectionTimeout) {
      what = "did not answer within " + std::to_string(timeout_s) + " s";
    }
    return Status(Error::kConnectFailed, not_ours + what);
  }
  const nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
  const bool health_json = body.is_object() && body.value("status", nlohmann::json()).is_string();
  if (r->status == 503 && health_json) {  // Api::Health once its ledger stopped taking writes.
    const std::string unwell = url + " is an rp-server that takes no writes now: ";
    return Status(Error::kBadAddress, unwell + "GET /healthz answered 503: " + Excerpt(r->body));
  }
  if (r->status != 200) {
    return Status(Error::kBadAddress, not_ours + "answered " + std::to_string(r->status));
  }
  // rp-server's own answer (server/gateway Api::Health): {"status": "ok"}.
  if (!health_json || body["status"] != "ok") {
    return Status(
        Error::kBadAddress,
        not_ours + "answered 200 but not rp-server's {\"status\": \"ok\"}: " + Excerpt(r->body));
  }
  return Status::Ok();
}

}  // namespace rp::sim
