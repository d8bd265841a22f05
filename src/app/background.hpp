// Background: one thread that runs the node's periodic chores (revocation feed, registered
// web origins, JWKS refresh) every `period`, and on demand with poke(). Chores run on this
// thread only, so they may block on the store or the network.
// Thread safety: poke() and stop() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stagepass {

class Background {
 public:
  explicit Background(std::chrono::milliseconds period) : period_(period) {}
  ~Background() { stop(); }
  // Adds a chore run every `every` ticks (a poke counts as one). Call before start().
  void add(std::function<void()> chore, int every = 1) {
    chores_.push_back({std::move(chore), every});
  }
  void start();
  // Runs every chore once as soon as possible (e.g. after a revocation on this node).
  void poke();
  void stop();

 private:
  struct Chore {
    std::function<void()> run;
    int every;
  };
  std::chrono::milliseconds period_;
  std::vector<Chore> chores_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace stagepass
