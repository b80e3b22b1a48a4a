// Error: the project's one list of error identifiers. Each has a stable snake_case name that the
// HTTP layers send to clients verbatim in {"error":{"code": ...}} (rp-server's API, rp-mock) and
// that programs print, and a class (Code) that decides the HTTP status. Code that reacts to an
// error compares the enum (status.Is(Error::kSoldOut)), never the name.
//
// Adding an error: one line below. Names are part of the API (docs/api.md): never rename one.
#pragma once

#include <cstdint>
#include <string_view>

namespace rp {

// Error classes. Each maps to one HTTP status (HttpStatusOf), in rp-server's API and rp-mock's.
enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,   // 400: the request is malformed or out of range.
  kUnauthenticated,   // 401: missing, malformed, forged or expired credentials.
  kPermissionDenied,  // 403: authenticated, but not allowed.
  kNotFound,          // 404
  kRequestTimeout,    // 408: the request's head did not arrive in time.
  kConflict,          // 409: state forbids the operation (sold out, not claimable, replay).
  kGone,              // 410: expired.
  kPayloadTooLarge,   // 413
  kTooManyRequests,   // 429: a rate limit refused the request; retry after a while.
  kHeaderTooLarge,    // 431: the request line and headers exceed the server's bound.
  kNotImplemented,    // 501: a transfer coding (or feature) the server does not support.
  kUnavailable,       // 503: overloaded or a dependency is down; retry later.
  kInternal,          // 500: a bug or storage failure. Never expected in normal operation.
};

// X(enumerator, name, class). Grouped by who raises them; the order is not part of anything.
#define RP_ERRORS(X)                                                            \
  /* requests: shape and fields */                                              \
  X(kInvalidJson, "invalid_json", kInvalidArgument)                             \
  X(kMissingField, "missing_field", kInvalidArgument)                           \
  X(kUnknownField, "unknown_field", kInvalidArgument)                           \
  X(kInvalidType, "invalid_type", kInvalidArgument)                             \
  X(kInvalidAmount, "invalid_amount", kInvalidArgument)                         \
  X(kInvalidCount, "invalid_count", kInvalidArgument)                           \
  X(kInvalidOrderNo, "invalid_order_no", kInvalidArgument)                      \
  X(kUnsupportedKind, "unsupported_kind", kInvalidArgument)                     \
  X(kInvalidSplit, "invalid_split", kInvalidArgument)                           \
  X(kInvalidAudience, "invalid_audience", kInvalidArgument)                     \
  X(kInvalidVideoId, "invalid_video_id", kInvalidArgument)                      \
  X(kInvalidGreeting, "invalid_greeting", kInvalidArgument)                     \
  X(kInvalidPacketId, "invalid_packet_id", kInvalidArgument)                    \
  X(kInvalidLimit, "invalid_limit", kInvalidArgument)                           \
  X(kInvalidCursor, "invalid_cursor", kInvalidArgument)                         \
  X(kInvalidSince, "invalid_since", kInvalidArgument)                           \
  X(kInvalidRound, "invalid_round", kInvalidArgument)                           \
  X(kInvalidStatus, "invalid_status", kInvalidArgument)                         \
  X(kInvalidSubsidyToken, "invalid_subsidy_token", kInvalidArgument)            \
  X(kInvalidLimits, "invalid_limits", kInvalidArgument)                         \
  X(kInvalidFeature, "invalid_feature", kInvalidArgument)                       \
  X(kRateLimited, "rate_limited", kTooManyRequests)                             \
  X(kMethodNotAllowed, "method_not_allowed", kInvalidArgument)                  \
  X(kBadHttp, "bad_http", kInvalidArgument)                                     \
  X(kPayloadTooLarge, "payload_too_large", kPayloadTooLarge)                    \
  X(kHeaderTooLarge, "header_too_large", kHeaderTooLarge)                       \
  X(kRequestTimeout, "request_timeout", kRequestTimeout)                        \
  X(kAmbiguousLength, "ambiguous_length", kInvalidArgument)                     \
  X(kUnsupportedTransferCoding, "unsupported_transfer_coding", kNotImplemented) \
  X(kRouteNotFound, "route_not_found", kNotFound)                               \
  /* credentials */                                                             \
  X(kUnauthenticated, "unauthenticated", kUnauthenticated)                      \
  X(kInvalidSignature, "invalid_signature", kUnauthenticated)                   \
  X(kForbidden, "forbidden", kPermissionDenied)                                 \
  X(kForeignSubsidy, "foreign_subsidy", kPermissionDenied)                      \
  X(kNotInAudience, "not_in_audience", kPermissionDenied)                       \
  /* packets, claims, payments */                                               \
  X(kPacketNotFound, "packet_not_found", kNotFound)                             \
  X(kClaimNotFound, "claim_not_found", kNotFound)                               \
  X(kPayOrderNotFound, "pay_order_not_found", kNotFound)                        \
  X(kMissingEntity, "missing_entity", kNotFound)                                \
  X(kSoldOut, "sold_out", kConflict)                                            \
  X(kNotClaimable, "not_claimable", kConflict)                                  \
  X(kExpired, "expired", kGone)                                                 \
  X(kIdempotencyConflict, "idempotency_conflict", kConflict)                    \
  X(kAmountMismatch, "amount_mismatch", kConflict)                              \
  X(kSubsidyAmountMismatch, "amount_mismatch", kInvalidArgument)                \
  X(kPaymentConflict, "payment_conflict", kConflict)                            \
  X(kPacketClosed, "packet_closed", kConflict)                                  \
  X(kIllegalTransition, "illegal_transition", kConflict)                        \
  X(kStateChanged, "state_changed", kConflict)                                  \
  X(kConstraintViolation, "constraint_violation", kConflict)                    \
  /* B2C subsidies */                                                           \
  X(kSubsidyNotFound, "subsidy_not_found", kNotFound)                           \
  X(kSubsidyUsed, "subsidy_used", kConflict)                                    \
  X(kSubsidyRefused, "subsidy_refused", kConflict)                              \
  X(kSubsidyUnavailable, "subsidy_unavailable", kConflict)                      \
  X(kSubsidyExpired, "subsidy_expired", kGone)                                  \
  X(kNotFrozen, "not_frozen", kConflict)                                        \
  X(kBudgetExhausted, "budget_exhausted", kConflict)                            \
  X(kRoundNotFound, "round_not_found", kNotFound)                               \
  X(kRoundExpired, "round_expired", kGone)                                      \
  X(kRewardNotConfigured, "reward_not_configured", kUnavailable)                \
  X(kRewardUnavailable, "reward_unavailable", kUnavailable)                     \
  /* wallet and payment service (rp-mock and its clients) */                    \
  X(kTransferNotFound, "transfer_not_found", kNotFound)                         \
  X(kRefundExceedsPayment, "refund_exceeds_payment", kConflict)                 \
  X(kRefundExceedsSubsidy, "refund_exceeds_subsidy", kConflict)                 \
  X(kPaymentPending, "payment_pending", kUnavailable)                           \
  /* capacity and dependencies */                                               \
  X(kOverloaded, "overloaded", kUnavailable)                                    \
  X(kShuttingDown, "shutting_down", kUnavailable)                               \
  X(kStorageBusy, "storage_busy", kUnavailable)                                 \
  X(kLedgerUnreachable, "ledger_unreachable", kUnavailable)                     \
  X(kRedisUnavailable, "redis_unavailable", kUnavailable)                       \
  X(kRedisStale, "redis_stale", kUnavailable)                                   \
  X(kRedisFailed, "redis_failed", kUnavailable)                                 \
  X(kServiceUnreachable, "service_unreachable", kUnavailable)                   \
  X(kDownstreamError, "downstream_error", kUnavailable)                         \
  X(kCircuitOpen, "circuit_open", kUnavailable)                                 \
  X(kDownstreamConflict, "downstream_conflict", kConflict)                      \
  X(kExportFailed, "export_failed", kUnavailable)                               \
  X(kExportMalformed, "export_malformed", kUnavailable)                         \
  X(kTimeout, "timeout", kUnavailable)                                          \
  X(kClosed, "closed", kUnavailable)                                            \
  X(kConnectFailed, "connect_failed", kUnavailable)                             \
  X(kBindFailed, "bind_failed", kUnavailable)                                   \
  X(kStartFailed, "start_failed", kUnavailable)                                 \
  X(kFixtureFailed, "fixture_failed", kUnavailable)                             \
  X(kMockSwitchFailed, "mock_switch_failed", kUnavailable)                      \
  /* programs' own inputs: config, scenarios, results, flags */                 \
  X(kBadConfig, "bad_config", kInvalidArgument)                                 \
  X(kBadAddress, "bad_address", kInvalidArgument)                               \
  X(kBadHost, "bad_host", kInvalidArgument)                                     \
  X(kBadScenario, "bad_scenario", kInvalidArgument)                             \
  X(kBadCheck, "bad_check", kInvalidArgument)                                   \
  X(kBadResults, "bad_results", kInvalidArgument)                               \
  X(kBadMetrics, "bad_metrics", kInvalidArgument)                               \
  X(kBadBanner, "bad_banner", kInvalidArgument)                                 \
  X(kBadLoadOptions, "bad_load_options", kInvalidArgument)                      \
  X(kInvalidSwitch, "invalid_switch", kInvalidArgument)                         \
  X(kNoMocks, "no_mocks", kInvalidArgument)                                     \
  X(kUnknownScheme, "unknown_scheme", kInvalidArgument)                         \
  /* bugs and storage failures */                                               \
  X(kInternal, "internal", kInternal)                                           \
  X(kStorageFull, "storage_full", kUnavailable)                                 \
  X(kStorageFailed, "storage_failed", kUnavailable)

enum class Error : uint16_t {
  kNone = 0,
#define RP_ERROR_ENUM(e, name, code) e,
  RP_ERRORS(RP_ERROR_ENUM)
#undef RP_ERROR_ENUM
};

// The stable name ("sold_out"); "" for kNone.
std::string_view ErrorName(Error e);
// The class an error belongs to; kOk for kNone.
Code ErrorClass(Error e);
// The error with this name, or kNone. Two errors share the name "amount_mismatch" (a payment of
// the wrong amount, 409; a B2C send whose total is not the subsidy's, 400): this returns the
// payment one.
Error ErrorByName(std::string_view name);
// 400, 401, 403, 404, 409, 410, 413, 429, 503, 500; 200 for kOk.
int HttpStatusOf(Code code);

}  // namespace rp
