// The one client of rp-server's HTTP API (docs/api.md), used by the tests, the simulator and the
// benchmarks. Three layers, so each user takes what it needs:
//   - request builders: every route as an api::Request — method, path, the bearer token or the
//     payment signature, the JSON body — built from typed arguments;
//   - Render(): the request as HTTP/1.1 keep-alive bytes, for the raw load generators;
//   - Client: a blocking client over one keep-alive connection (cpp-httplib, TCP_NODELAY).
// Reply parsing (ErrorCode, the typed claim view) is shared by all of them.
//
// Builders are pure and thread-safe; a Client is not thread-safe (one per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace rp::api {

// The secrets a client signs with: bearer tokens (auth) and payment callbacks (payment).
struct Credentials {
  std::string auth_secret;
  std::string payment_secret;
  int64_t token_ttl_s = 3600;
};

struct Request {
  std::string method;
  std::string path;  // With the query string.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The body of POST /v1/packets.
struct SendBody {
  std::string order_no;
  std::string kind = "c2c";
  int64_t total_cents = 0;
  int64_t count = 0;
  std::string split = "random";
  std::string audience = "public";
  std::string video_id = "v1";
  std::string greeting;
  std::string subsidy_token;  // b2c only.
};
nlohmann::json ToJson(const SendBody& b);

// "Bearer <token>" for a user (or an admin token when user_id is 0), valid token_ttl_s.
std::string Bearer(const Credentials& c, int64_t user_id);

Request Healthz();
Request Metrics();
Request SendPacket(const Credentials& c, int64_t user_id, const SendBody& body);
Request Claim(const Credentials& c, int64_t packet_id, int64_t user_id);
Request GetPacket(const Credentials& c, int64_t packet_id, int64_t user_id);
// GET /v1/packets/{id}/claims; cursor "" for the first page.
Request ListClaims(const Credentials& c, int64_t packet_id, int64_t user_id, int limit,
                   const std::string& cursor = "");
// The payment service's signed callback.
Request PaymentCallback(const Credentials& c, const std::string& pay_order_no,
                        const std::string& status, int64_t amount_cents);
Request Grab(const Credentials& c, const std::string& round, int64_t user_id);
Request Subsidies(const Credentials& c, int64_t user_id);
// GET /admin/recon with an admin token; since_s 0 for all packets.
Request AdminRecon(const Credentials& c, int64_t since_s = 0);
// Any request with a user's (or, user_id 0, an admin's) token.
Request WithToken(const Credentials& c, const std::string& method, const std::string& path,
                  int64_t user_id, const std::string& body = "");

// HTTP/1.1 keep-alive bytes of a request (Host, Content-Length, Content-Type when a body).
std::string Render(const Request& r);

// A reply as the clients here see it. status 0: the request failed at the transport level.
struct Reply {
  int status = 0;
  nlohmann::json body;  // Discarded (is_discarded()) when the body is not JSON.
  std::string raw;
};
// The error code of an error reply ({"error":{"code"}}), "" otherwise.
std::string ErrorCode(const Reply& r);
Reply MakeReply(int status, std::string raw);

// A won or repeated claim (201 / 200).
struct ClaimReply {
  int64_t claim_id = 0;
  int64_t packet_id = 0;
  int64_t amount_cents = 0;
  bool repeat = false;
};
std::optional<ClaimReply> ParseClaim(const Reply& r);

class Client {
 public:
  Client(const std::string& host, int port, Credentials credentials, int64_t timeout_ms = 30000);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Reply Send(const Request& r);
  const Credentials& credentials() const { return creds_; }

  // Shorthands for the requests above.
  Reply Get(const std::string& path, int64_t user_id);
  Reply Post(const std::string& path, const std::string& body, int64_t user_id);
  Reply SendPacket(int64_t user_id, const SendBody& body);
  // A C2C packet of count shares from sender (split and order number as given).
  Reply SendPacket(int64_t sender, const std::string& order_no, int64_t total_cents, int64_t count,
                   const std::string& split = "random");
  Reply Claim(int64_t packet_id, int64_t user_id);
  Reply Pay(const std::string& pay_order_no, const std::string& status, int64_t amount_cents);
  Reply Recon(int64_t since_s = 0);

 private:
  Credentials creds_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace rp::api
