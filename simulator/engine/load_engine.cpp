#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "simulator/engine/load_engine.h"

#include "common/api/api_client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"

namespace rp::sim {
namespace net = boost::asio;
using nlohmann::json;

namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kIdleStepNs = 10'000'000;  // How far the arrival cursor moves at rate 0.

net::steady_timer::time_point AtNs(int64_t ns) {
  return net::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

// The phase running at offset_ns into the load, and the offset of its start; -1 after the end.
int PhaseAt(const Scenario& s, int64_t offset_ns, int64_t* phase_start_ns) {
  int64_t begin = 0;
  for (size_t i = 0; i < s.load.phases.size(); ++i) {
    const int64_t end = begin + s.load.phases[i].duration_s * kNsPerS;
    if (offset_ns < end) {
      *phase_start_ns = begin;
      return static_cast<int>(i);
    }
    begin = end;
  }
  return -1;
}

class Driver {
 public:
  Driver(const Scenario& s, const Target& t, const std::vector<ObservedPacket>& hot,
         int64_t start_ns, const std::function<void(const Progress&)>& progress,
         const AbortCheck& abort_check, StatsListener* listener)
      : s_(s),
        start_ns_(start_ns),
        end_ns_(start_ns + s.DurationS() * kNsPerS),
        pool_(io_, {t.host, t.port, s.load.connections, 1'000'000, s.load.request_timeout_ms, 50}),
        runner_(io_, s, t, &pool_, &out_.stats, &out_.observed, start_ns),
        arrival_timer_(io_),
        tick_timer_(io_),
        progress_(progress),
        abort_check_(abort_check),
        arrivals_rng_(s.seed) {
    std::vector<int64_t> ids;
    for (const ObservedPacket& p : hot) {
      out_.observed.packets[p.packet_id] = p;  // Verified like any other acknowledged packet.
      ids.push_back(p.packet_id);
    }
    runner_.SetHotPackets(std::move(ids));
    out_.stats.set_listener(listener);
  }

  LoadOutcome Run() {
    if (s_.load.model == "open") {
      cursor_ns_ = start_ns_;
      NextArrival();
    } else {
      PhaseBoundary();
    }
    Tick();
    io_.run();
    out_.stats.set_listener(nullptr);  // The outcome outlives this run's listener.
    out_.load_seconds = out_.aborted_by.empty() && !bound_reached_
                            ? static_cast<double>(s_.DurationS())
                            : static_cast<double>(end_ns_ - start_ns_) / kNsPerS;
    return std::move(out_);
  }

 private:
  // load.journeys_max: whether one more journey may start (counting it if so). Once none may,
  // the load's end moves to now; Tick ends the load when the journeys in flight are done.
  bool MayStartJourney() {
    if (s_.load.journeys_max <= 0) return true;
    if (journeys_started_ < s_.load.journeys_max) {
      ++journeys_started_;
      return true;
    }
    if (!bound_reached_) {
      bound_reached_ = true;
      end_ns_ = std::min(end_ns_, MonotonicNs());
    }
    return false;
  }

  // Open model: a Poisson process thinned by the phase's current rate.
  void NextArrival() {
    if (bound_reached_) return;
    for (;;) {
      int64_t phase_start = 0;
      const int phase = PhaseAt(s_, cursor_ns_ - start_ns_, &phase_start);
      if (phase < 0) return;  // The load is over: no more arrivals.
      const Phase& p = s_.load.phases[static_cast<size_t>(phase)];
      const double rate =
          p.RateAt(static_cast<double>(cursor_ns_ - start_ns_ - phase_start) / kNsPerS);
      if (rate <= 0) {
        cursor_ns_ += kIdleStepNs;
        continue;
      }
      const double gap_s = std::exponential_distribution<double>(rate)(arrivals_rng_);
      cursor_ns_ += std::max<int64_t>(1, static_cast<int64_t>(gap_s * kNsPerS));
      if (cursor_ns_ >= end_ns_) return;
      break;
    }
    arrival_timer_.expires_at(AtNs(cursor_ns_));
    arrival_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      Arrive(cursor_ns_);
      NextArrival();
    });
  }

  void Arrive(int64_t intended_ns) {
    if (!MayStartJourney()) return;
    const int64_t now = MonotonicNs();
    out_.stats.RecordArrival((now - start_ns_) / kNsPerS, (now - intended_ns) / 1000);
    if (runner_.active() >= s_.load.journeys_in_flight_max) {
      out_.stats.RecordDropped((now - start_ns_) / kNsPerS);
      return;
    }
    runner_.Start(intended_ns, [] {});
    if (StatsListener* l = out_.stats.listener()) l->OnJourneysInFlight(runner_.active());
  }

  // Closed model: at each phase start, grow or shrink the set of virtual users.
  void PhaseBoundary() {
    if (!out_.aborted_by.empty()) return;
    int64_t phase_start = 0;
    const int phase = PhaseAt(s_, MonotonicNs() - start_ns_, &phase_start);
    if (phase < 0) return;
    const Phase& p = s_.load.phases[static_cast<size_t>(phase)];
    vus_wanted_ = p.users;
    think_ms_ = p.think_ms;
    while (vus_running_ < vus_wanted_ && !bound_reached_) StartVu(vus_running_++, MonotonicNs());
    const int64_t next = start_ns_ + phase_start + p.duration_s * kNsPerS;
    auto timer = std::make_shared<net::steady_timer>(io_, AtNs(next));
    timer->async_wait([this, timer](boost::system::error_code) { PhaseBoundary(); });
  }

  void StartVu(int vu, int64_t intended_ns) {
    if (!MayStartJourney()) {
      --vus_running_;
      return;
    }
    runner_.Start(intended_ns, [this, vu] {
      const int64_t now = MonotonicNs();
      if (now >= end_ns_ || vu >= vus_wanted_) {
        --vus_running_;
        return;
      }
      auto timer = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(think_ms_));
      const int64_t due = now + think_ms_ * 1'000'000;
      timer->async_wait([this, timer, vu, due](boost::system::error_code) { StartVu(vu, due); });
    });
  }

  void Tick() {
    tick_timer_.expires_at(AtNs(start_ns_ + (++ticks_) * kNsPerS));
    tick_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const int64_t now = MonotonicNs();
      Report(ticks_ - 1);
      if (StatsListener* l = out_.stats.listener()) l->OnJourneysInFlight(runner_.active());
      if (abort_check_ && now < end_ns_ && out_.aborted_by.empty()) {
        out_.aborted_by = abort_check_(out_.stats, static_cast<double>(now - start_ns_) / kNsPerS);
        if (!out_.aborted_by.empty()) {
          end_ns_ = now;  // No more arrivals; closed-model users stop after their journey.
          arrival_timer_.cancel();
        }
      }
      const int64_t drain_deadline = end_ns_ + (s_.load.request_timeout_ms + 10'000) * 1'000'000;
      if (now >= end_ns_ && (runner_.active() == 0 || now >= drain_deadline)) {
        arrival_timer_.cancel();
        pool_.Close();  // Remaining journeys get status 0 and end.
        io_.stop();
        return;
      }
      Tick();
    });
  }

  void Report(int64_t second) {
    Progress p;
    int64_t phase_start = 0;
    const int phase = PhaseAt(s_, second * kNsPerS, &phase_start);
    p.phase = phase < 0 ? "drain" : s_.load.phases[static_cast<size_t>(phase)].name;
    p.elapsed_s = static_cast<double>(second + 1);
    p.total_s = static_cast<double>(s_.DurationS());
    p.journeys_active = runner_.active();
    for (const auto& [op, st] : out_.stats.ops()) {
      if (static_cast<size_t>(second) >= st.seconds.size()) continue;
      const SecondStats& sec = st.seconds[static_cast<size_t>(second)];
      p.requests_per_s += static_cast<double>(sec.requests);
      p.errors += sec.errors;
      if (op == "claim") p.claim_p99_ms = sec.latency.ValueAtQuantile(0.99) / 1000.0;
    }
    progress_(p);
  }

  const Scenario& s_;
  const int64_t start_ns_;
  int64_t end_ns_;  // The plan's end, or earlier when an abort_on_fail check stopped the load.
  LoadOutcome out_;
  net::io_context io_{1};
  HttpPool pool_;
  JourneyRunner runner_;
  net::steady_timer arrival_timer_;
  net::steady_timer tick_timer_;
  const std::function<void(const Progress&)>& progress_;
  const AbortCheck& abort_check_;
  std::mt19937_64 arrivals_rng_;
  int64_t cursor_ns_ = 0;
  int64_t ticks_ = 0;
  int vus_wanted_ = 0;
  int vus_running_ = 0;
  int64_t think_ms_ = 0;
  int64_t journeys_started_ = 0;  // Counted only under load.journeys_max.
  bool bound_reached_ = false;    // load.journeys_max journeys started: no more will.
};

}  // namespace

Status PrepareFixtures(const Scenario& s, const Target& t,
                       std::vector<ObservedPacket>* hot_packets) {
  if (s.flows.b2c.weight > 0) {
    if (t.mocks_url.empty()) return Status(Error::kNoMocks, "the b2c flow needs rp-mock");
    httplib::Client mock(t.mocks_url);
    const B2cFlow& b = s.flows.b2c;
    json round = {{"round", b.round},
                  {"budget_cents", b.budget_cents},
                  {"min_cents", b.min_cents},
                  {"max_cents", b.max_cents},
                  {"expires_in_s", 86400}};
    auto r = mock.Post("/admin/rounds", round.dump(), "application/json");
    if (!r || (r->status != 201 && r->status != 200)) {
      return Status(Error::kFixtureFailed,
                    "rp-mock refused the rain round: " + (r ? r->body : std::string("no answer")));
    }
  }
  if (s.flows.hot.weight <= 0) return Status::Ok();
  api::Client server(t.host, t.port, {t.auth_secret, t.payment_secret});
  for (int i = 0; i < s.flows.hot.packets; ++i) {
    const int64_t sender = s.first_user_id - 1 - i;  // Outside the claiming population.
    api::SendBody body;
    body.order_no = "sim-hot-" + std::to_string(s.seed) + "-" + t.run_tag + "-" + std::to_string(i);
    body.total_cents = s.flows.hot.shares * s.flows.hot.share_cents;
    body.count = s.flows.hot.shares;
    body.video_id = "hot";
    api::Reply sent = server.SendPacket(sender, body);
    if (sent.status != 201 && sent.status != 200) {
      return Status(Error::kFixtureFailed,
                    "the hot packet was refused: " + (sent.status != 0 ? sent.raw : "no answer"));
    }
    const int64_t id = sent.body.value("packet_id", int64_t{0});
    if (t.mocks_url.empty()) {
      (void)server.Pay(sent.body.value("pay_order_no", ""), "paid", body.total_cents);  // Polled.
    }
    std::string status;
    for (int poll = 0; poll < 300 && status != "active"; ++poll) {
      api::Reply g = server.Get("/v1/packets/" + std::to_string(id), sender);
      if (g.status == 200) status = g.body.value("status", "");
      if (status != "active") std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (status != "active") {
      return Status(Error::kFixtureFailed,
                    "hot packet " + std::to_string(id) + " was not paid within 15 s");
    }
    hot_packets->push_back({id, "c2c", sender, body.total_cents, s.flows.hot.shares});
  }
  return Status::Ok();
}

LoadOutcome RunLoad(const Scenario& scenario, const Target& target,
                    const std::vector<ObservedPacket>& hot_packets, int64_t start_ns,
                    const std::function<void(const Progress&)>& progress,
                    const AbortCheck& abort_check, StatsListener* listener) {
  Driver driver(scenario, target, hot_packets, start_ns, progress, abort_check, listener);
  return driver.Run();
}

}  // namespace rp::sim
