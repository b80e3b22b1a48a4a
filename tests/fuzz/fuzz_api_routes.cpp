// Whole requests through a running rp-server (in this process, on loopback): every route with a
// fuzzed method, path, token and body, a few requests per input so that later ones can act on
// what earlier ones made. The parsers have targets of their own; this one finds what the
// handlers do with what the parsers let through. The rules it holds every answer to:
//   - an answer always comes (status 0 = the server did not answer: a crash or a hang);
//   - never a 500: bad input is a 4xx, an unavailable part a 503;
//   - every answer but /metrics is JSON, and every error answer names its code;
//   - the ledger conserves money (checked every 128 inputs, and at exit).
//
// Input: up to 4 requests separated by NUL bytes, each `F PATH \n BODY`, where F is one byte:
// bits 0-2 the method, bits 3-4 the credentials (none, a user's token, an admin token, or the
// payment service's signature over the body), bits 5-7 the user (1-8). In the path and the
// body, `$P` becomes the last packet id an answer named and `$O` the last pay order number.
// RP_FUZZ_VERBOSE=1 prints every request and its answer (to read a finding).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/api/api_client.h"
#include "common/crypto.h"
#include "common/downstream.h"
#include "server/app/app.h"
#include "server/app/config.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

constexpr const char* kAuthSecret = "fuzz-auth-secret-0123456789abcdef";
constexpr const char* kPaymentSecret = "fuzz-payment-secret-0123456789abcdef";
constexpr int kRequestsPerInputMax = 4;
constexpr size_t kBodyBytesMax = 8 * 1024;
constexpr int kCheckEvery = 128;

struct Server {
  std::string dir;
  rp::ledger::LedgerOptions ledger;
  std::unique_ptr<rp::App> app;
  std::unique_ptr<rp::api::Client> client;
  std::string last_packet = "1";
  std::string last_order = "po-1";
  int64_t inputs = 0;
};

void CheckMoney(Server& s) {
  bool ok = false;
  rp::Result<std::string> report = rp::CheckLedger(s.ledger, &ok);
  if (!report.ok() || !ok) {
    std::fprintf(stderr, "%s\n",
                 report.ok() ? report->c_str() : report.status().ToString().c_str());
    rp::fuzz::Fail("the ledger does not conserve money");
  }
}

Server& TheServer() {
  static Server* s = [] {
    auto* server = new Server;
    server->dir =
        (std::filesystem::temp_directory_path() / ("rp-fuzz-api-" + std::to_string(getpid())))
            .string();
    std::filesystem::remove_all(server->dir);
    std::filesystem::create_directories(server->dir);
    rp::ServerConfig c;
    c.server.port = 0;
    c.server.threads = 2;
    c.server.auth_secret = kAuthSecret;
    c.server.payment_secret = kPaymentSecret;
    c.ledger.path = server->dir + "/ledger.db";
    c.ledger.synchronous = "OFF";  // Durability is not what this target looks at; speed is.
    c.rng_seed = 7;
    c.scanner.interval_ms = 3600 * 1000;
    c.server.shutdown_grace_ms = 1000;
    server->ledger = c.ledger;
    c.downstream.Resolve();
    auto started = rp::App::Start(c);
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
      rp::fuzz::Fail("rp-server did not start");
    }
    server->app = std::move(started.value());
    server->client = std::make_unique<rp::api::Client>(
        "127.0.0.1", server->app->port(), rp::api::Credentials{kAuthSecret, kPaymentSecret},
        /*timeout_ms=*/10000);
    std::atexit([] {
      Server& at_exit = TheServer();
      CheckMoney(at_exit);
      at_exit.client.reset();
      at_exit.app.reset();
      std::filesystem::remove_all(at_exit.dir);
    });
    return server;
  }();
  return *s;
}

std::string Substitute(std::string text, const Server& s) {
  for (size_t at = text.find('$'); at != std::string::npos && at + 1 < text.size();
       at = text.find('$', at + 1)) {
    if (text[at + 1] == 'P') text.replace(at, 2, s.last_packet);
    if (text[at + 1] == 'O') text.replace(at, 2, s.last_order);
  }
  return text;
}

// A path as a client could send it: no control bytes or spaces (those are the HTTP layer's
// fuzzing, tests/http_hostile_test.cpp), at least "/".
std::string CleanPath(std::string path) {
  for (char& ch : path) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '_';
  }
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  return path.substr(0, 512);
}

rp::api::Request Build(uint8_t flags, const std::string& path, const std::string& body) {
  static constexpr const char* kMethods[] = {"GET",   "POST", "PUT", "DELETE",
                                             "PATCH", "POST", "GET", "OPTIONS"};
  const char* method = kMethods[flags & 7];
  const int64_t user = 1 + (flags >> 5);
  const rp::api::Credentials creds{kAuthSecret, kPaymentSecret};
  rp::api::Request r{method, path, {}, body};
  switch ((flags >> 3) & 3) {
    case 1:
      r = rp::api::WithToken(creds, method, path, user, body);
      break;
    case 2:
      r = rp::api::WithToken(creds, method, path, /*user_id=*/0, body);  // An admin token.
      break;
    case 3:
      r.headers.push_back(
          {rp::downstream::kSignatureHeader, rp::crypto::HmacSha256Hex(kPaymentSecret, body)});
      break;
    default:
      break;
  }
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  return r;
}

// Holds one answer to the rules in the file comment, and remembers what it named.
void Judge(const rp::api::Request& r, const rp::api::Reply& reply, Server& s) {
  static const bool verbose = std::getenv("RP_FUZZ_VERBOSE") != nullptr;  // To read a finding.
  if (verbose) {
    std::fprintf(stderr, "%s %s %s -> %d %s\n", r.method.c_str(), r.path.c_str(), r.body.c_str(),
                 reply.status, reply.raw.substr(0, 200).c_str());
  }
  if (reply.status == 0) rp::fuzz::Fail("no answer (the server crashed, hung or closed)");
  if (reply.status >= 500 && reply.status != 503) {
    std::fprintf(stderr, "%s %s -> %d %s\n", r.method.c_str(), r.path.c_str(), reply.status,
                 reply.raw.c_str());
    rp::fuzz::Fail("a 5xx other than 503");
  }
  // /metrics answers Prometheus text; the router takes "//metrics" and "/metrics/" for it too.
  if (reply.status == 200 && reply.raw.rfind("# HELP ", 0) == 0) return;
  if (reply.body.is_discarded()) rp::fuzz::Fail("an answer that is not JSON");
  if (reply.status >= 400 && rp::api::ErrorCode(reply).empty()) {
    rp::fuzz::Fail("an error answer without a code");
  }
  if (reply.body.is_object()) {
    auto packet = reply.body.find("packet_id");
    if (packet != reply.body.end() && packet->is_number_integer()) {
      s.last_packet = std::to_string(packet->get<int64_t>());
    }
    auto order = reply.body.find("pay_order_no");
    if (order != reply.body.end() && order->is_string()) s.last_order = order->get<std::string>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = TheServer();
  const std::string input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  for (int i = 0; i < kRequestsPerInputMax && start < input.size(); ++i) {
    size_t end = input.find('\0', start);
    if (end == std::string::npos) end = input.size();
    const std::string one = input.substr(start, end - start);
    start = end + 1;
    if (one.empty()) continue;
    const size_t newline = one.find('\n', 1);
    const std::string path = CleanPath(Substitute(
        one.substr(1, newline == std::string::npos ? std::string::npos : newline - 1), s));
    const std::string body =
        newline == std::string::npos ? "" : Substitute(one.substr(newline + 1), s);
    const rp::api::Request request =
        Build(static_cast<uint8_t>(one[0]), path, body.substr(0, kBodyBytesMax));
    Judge(request, s.client->Send(request), s);
  }
  if (++s.inputs % kCheckEvery == 0) CheckMoney(s);
  return 0;
}
