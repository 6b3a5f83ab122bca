#include "plinth/observe/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <variant>

namespace plinth::observe {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double micros = v * 1e6;
  if (micros > 0)
    sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(micros)),
                          std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(acc);
  }
  s.count = acc;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

struct Registry::Entry {
  struct CallbackGauge {
    std::string name, help;
    std::function<double()> read;
    const char* type = "gauge";
  };
  struct Info {
    std::string name, help;
    std::vector<std::pair<std::string, std::string>> labels;
  };
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
               std::unique_ptr<Family<Histogram>>, CallbackGauge, Info>
      v;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  auto fam =
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(label_names),
                                        [] { return std::make_unique<Counter>(); });
  auto& ref = *fam;
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{std::move(fam)});
  return ref;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> label_names) {
  auto fam =
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(label_names),
                                      [] { return std::make_unique<Gauge>(); });
  auto& ref = *fam;
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{std::move(fam)});
  return ref;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> bounds) {
  auto fam =
      std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(label_names),
                                          [bounds] { return std::make_unique<Histogram>(bounds); });
  auto& ref = *fam;
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{std::move(fam)});
  return ref;
}

void Registry::callback_gauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  entries_.push_back(
      Entry{Entry::CallbackGauge{std::move(name), std::move(help), std::move(read)}});
}

void Registry::callback_counter(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  entries_.push_back(
      Entry{Entry::CallbackGauge{std::move(name), std::move(help), std::move(read), "counter"}});
}

void Registry::info(std::string name, std::string help,
                    std::vector<std::pair<std::string, std::string>> labels) {
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{Entry::Info{std::move(name), std::move(help), std::move(labels)}});
}

std::vector<double> Registry::default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

namespace {

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   const char* type) {
  out += "# HELP " + name + " " + escape_help(help) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
}

// `{a="1",b="2"}` plus an optional extra label (le for histograms).
std::string label_block(const std::vector<std::string>& names, const LabelValues& values,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  out += '}';
  return out;
}

}  // namespace

std::string Registry::expose() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& e : entries_) {
    if (auto* c = std::get_if<std::unique_ptr<Family<Counter>>>(&e.v)) {
      const auto& fam = **c;
      append_header(out, fam.name(), fam.help(), "counter");
      fam.for_each([&](const LabelValues& lv, const Counter& ctr) {
        out += fam.name() + label_block(fam.label_names(), lv) + " " + std::to_string(ctr.value()) +
               "\n";
      });
    } else if (auto* g = std::get_if<std::unique_ptr<Family<Gauge>>>(&e.v)) {
      const auto& fam = **g;
      append_header(out, fam.name(), fam.help(), "gauge");
      fam.for_each([&](const LabelValues& lv, const Gauge& gg) {
        out += fam.name() + label_block(fam.label_names(), lv) + " " + std::to_string(gg.value()) +
               "\n";
      });
    } else if (auto* h = std::get_if<std::unique_ptr<Family<Histogram>>>(&e.v)) {
      const auto& fam = **h;
      append_header(out, fam.name(), fam.help(), "histogram");
      fam.for_each([&](const LabelValues& lv, const Histogram& hist) {
        auto snap = hist.snapshot();
        const auto& bounds = hist.bounds();
        for (std::size_t i = 0; i < bounds.size(); ++i) {
          out += fam.name() + "_bucket" +
                 label_block(fam.label_names(), lv, "le", format_number(bounds[i])) + " " +
                 std::to_string(snap.cumulative[i]) + "\n";
        }
        out += fam.name() + "_bucket" + label_block(fam.label_names(), lv, "le", "+Inf") + " " +
               std::to_string(snap.cumulative.back()) + "\n";
        out += fam.name() + "_sum" + label_block(fam.label_names(), lv) + " " +
               format_number(snap.sum) + "\n";
        out += fam.name() + "_count" + label_block(fam.label_names(), lv) + " " +
               std::to_string(snap.count) + "\n";
      });
    } else if (auto* cg = std::get_if<Entry::CallbackGauge>(&e.v)) {
      append_header(out, cg->name, cg->help, cg->type);
      out += cg->name + " " + format_number(cg->read()) + "\n";
    } else if (auto* info = std::get_if<Entry::Info>(&e.v)) {
      append_header(out, info->name, info->help, "gauge");
      std::vector<std::string> names;
      LabelValues values;
      for (const auto& [k, v] : info->labels) {
        names.push_back(k);
        values.push_back(v);
      }
      out += info->name + label_block(names, values) + " 1\n";
    }
  }
  return out;
}

}  // namespace plinth::observe
