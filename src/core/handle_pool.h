// A thread-safe pool of reusable handles (libcurl easy handles, each keeping its keep-alive
// connections): Take one (a pooled one, or a new one from `make`), use it on one thread,
// Give it back, or Discard it when its state is unknown (a failed transfer). The pool frees
// what it holds with `destroy`.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace skald {

template <class T>
class HandlePool {
 public:
  HandlePool(std::function<T*()> make, std::function<void(T*)> destroy)
      : make_(std::move(make)), destroy_(std::move(destroy)) {}
  ~HandlePool() {
    for (T* h : idle_) destroy_(h);
  }
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // Null when `make` fails.
  T* Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        T* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return make_();
  }
  void Give(T* h) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(h);
  }
  void Discard(T* h) { destroy_(h); }

 private:
  const std::function<T*()> make_;
  const std::function<void(T*)> destroy_;
  std::mutex mu_;
  std::vector<T*> idle_;
};

}  // namespace skald
