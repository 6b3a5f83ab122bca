#pragma once
// Metrics registry with Prometheus text exposition (format 0.0.4).
// Families are created at wiring time; a labelled child is looked up once and
// then updated lock-free (atomics). Owned by the App, passed explicitly.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::observe {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> sum_micros_{0};  // sum kept in micro-units to stay lock-free
  std::atomic<std::uint64_t> count_{0};
};

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The child for these label values (created on first use; reference stays valid).
  T& with(const LabelValues& values) {
    std::lock_guard lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
    auto [ins, _] = children_.emplace(values, make_());
    return *ins->second;
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [labels, child] : children_) fn(labels, *child);
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help,
                               std::vector<std::string> label_names, std::vector<double> bounds);
  // A gauge whose value is read at scrape time.
  void callback_gauge(std::string name, std::string help, std::function<double()> read);
  // A counter whose (monotonic) value is read at scrape time.
  void callback_counter(std::string name, std::string help, std::function<double()> read);
  // A constant info-style gauge `name{labels} 1`.
  void info(std::string name, std::string help,
            std::vector<std::pair<std::string, std::string>> labels);

  // Prometheus text exposition of every family, in registration order.
  std::string expose() const;

  static std::vector<double> default_latency_buckets();

 private:
  struct Entry;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label_value(std::string_view v);

}  // namespace plinth::observe
