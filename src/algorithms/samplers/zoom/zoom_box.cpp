// Zooming (coarse to fine): the box around the best trials, and the narrowed search space
// a person can read. See include/caviar/zoom.h.
#include "caviar/zoom.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/trial.h"

namespace caviar {
namespace {

// The number kept of m trials: ceil(keep · m), but at least two (a box needs two points
// to have a width; with one trial there is nothing to zoom on).
int kept_count(double keep, std::size_t m) {
  double k = std::ceil(keep * static_cast<double>(m) - 1e-9);
  return static_cast<int>(std::clamp(k, std::min(2.0, static_cast<double>(m)), static_cast<double>(m)));
}

bool discrete(const Parameter& p) { return p.type != ParamType::Choice && p.step.has_value(); }

// The unit interval of a value: its cell for ints and stepped floats, else the point.
std::pair<double, double> unit_cell(const Parameter& p, double v) {
  if (!discrete(p)) {
    double u = p.to_unit(v);
    return {u, u};
  }
  return {p.to_unit(v - *p.step / 2), p.to_unit(v + *p.step / 2)};
}

// The smallest and largest value that the interval [lo, hi] of the unit line produces.
std::pair<double, double> value_range(const Parameter& p, double lo, double hi) {
  constexpr double inside = 1e-12;  // a cell edge belongs to the cell inside the box
  double a = lo <= 0 ? p.low : discrete(p) ? p.from_unit(lo + inside) : p.from_unit(lo);
  double b = hi >= 1 ? p.high : discrete(p) ? p.from_unit(hi - inside) : p.from_unit(hi);
  return {a, std::max(a, b)};
}

// x rounded down (up) to `digits` significant digits; x > 0.
double floor_sig(double x, int digits) {
  double unit = std::pow(10.0, std::floor(std::log10(x)) - digits + 1);
  return std::floor(x / unit * (1 + 1e-12)) * unit;
}
double ceil_sig(double x, int digits) {
  double unit = std::pow(10.0, std::floor(std::log10(x)) - digits + 1);
  return std::ceil(x / unit * (1 - 1e-12)) * unit;
}

// A number as a person would write it: 12 significant digits at most (so 0.1 + 0.2 is 0.3).
double clean(double x) { return std::strtod(fmt::format("{:.12g}", x).c_str(), nullptr); }

// [a, b] rounded outward with `digits` significant digits on p's scale, inside p's range
// and on p's grid of steps.
std::pair<double, double> round_outward(const Parameter& p, double a, double b, int digits) {
  double lo = a, hi = b;
  switch (p.scale) {
    case Scale::Linear: {
      double width = b - a;
      if (width > 0) {
        double unit = std::pow(10.0, std::floor(std::log10(width)) - digits + 1);
        lo = std::floor(a / unit * (1 + 1e-12 * (a < 0 ? -1 : 1))) * unit;
        hi = std::ceil(b / unit * (1 - 1e-12 * (b < 0 ? -1 : 1))) * unit;
      }
      break;
    }
    case Scale::Log:
      lo = floor_sig(a, digits);
      hi = ceil_sig(b, digits);
      break;
    case Scale::ReverseLog:
      lo = 1 - ceil_sig(1 - a, digits);
      hi = 1 - floor_sig(1 - b, digits);
      break;
    case Scale::Logit:
      lo = a <= 0.5 ? floor_sig(a, digits) : 1 - ceil_sig(1 - a, digits);
      hi = b >= 0.5 ? 1 - floor_sig(1 - b, digits) : ceil_sig(b, digits);
      break;
  }
  lo = std::clamp(clean(lo), p.low, p.high);
  hi = std::clamp(clean(hi), p.low, p.high);
  if (p.step) {
    double s = *p.step, last = std::round((p.high - p.low) / s);
    double k_lo = std::clamp(std::floor((lo - p.low) / s + 1e-9), 0.0, last);
    double k_hi = std::clamp(std::ceil((hi - p.low) / s - 1e-9), 0.0, last);
    if (k_lo == k_hi) {  // one value: keep a range of two
      if (k_hi < last) k_hi += 1;
      else k_lo -= 1;
    }
    lo = k_lo == 0 ? p.low : clean(p.low + k_lo * s);
    hi = k_hi == last ? p.high : clean(p.low + k_hi * s);
  }
  if (!(lo < hi)) lo = p.low, hi = p.high;
  return {lo, hi};
}

// The width on p's unit line of the values [a, b] (with whole cells for discrete p).
double unit_width(const Parameter& p, double a, double b) {
  return unit_cell(p, b).second - unit_cell(p, a).first;
}

std::string condition_text(const std::string& param, const std::vector<std::string>& values) {
  if (values.size() == 1) return param + " == " + values[0];
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
  return param + " in [" + list + "]";
}

}  // namespace

// ---- ZoomBox ----------------------------------------------------------------------------

ZoomBox ZoomBox::whole(const SearchSpace& space) {
  ZoomBox box;
  for (const auto& p : space.params()) {
    ZoomRange r;
    r.name = p.name;
    if (p.type == ParamType::Choice)
      for (std::size_t i = 0; i < p.choices.size(); ++i) r.kept.push_back(static_cast<int>(i));
    box.ranges.push_back(std::move(r));
  }
  return box;
}

const ZoomRange* ZoomBox::find(const std::string& name) const {
  for (const auto& r : ranges)
    if (r.name == name) return &r;
  return nullptr;
}

std::vector<double> ZoomBox::map(const SearchSpace& space, const std::vector<double>& u) const {
  std::vector<double> out(space.size(), 0.5);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const Parameter& p = space.params()[i];
    double x = i < u.size() ? std::clamp(u[i], 0.0, 1.0) : 0.5;
    const ZoomRange* r = find(p.name);
    if (!r) {
      out[i] = x;
    } else if (p.type == ParamType::Choice) {
      if (r->kept.empty()) {
        out[i] = x;
      } else {
        auto n = r->kept.size();
        auto j = std::min(static_cast<std::size_t>(x * static_cast<double>(n)), n - 1);
        out[i] = p.to_unit(r->kept[j]);
      }
    } else {
      out[i] = r->lo + x * (r->hi - r->lo);
    }
  }
  return out;
}

bool ZoomBox::contains(const SearchSpace& space, const Params& params) const {
  constexpr double slack = 1e-9;
  for (const auto& [name, v] : params) {
    const Parameter* p = space.find(name);
    const ZoomRange* r = find(name);
    if (!p || !r) continue;
    if (p->type == ParamType::Choice) {
      if (!r->kept.empty() &&
          std::find(r->kept.begin(), r->kept.end(), static_cast<int>(v)) == r->kept.end())
        return false;
    } else {
      auto [a, b] = unit_cell(*p, v);
      if (b < r->lo - slack || a > r->hi + slack) return false;
      if (discrete(*p) && a != b && (b <= r->lo || a >= r->hi)) return false;
    }
  }
  return true;
}

json ZoomBox::to_json(const SearchSpace& space) const {
  json out = json::object();
  for (const auto& p : space.params()) {
    const ZoomRange* r = find(p.name);
    if (p.type == ParamType::Choice) {
      json values = json::array();
      if (r && !r->kept.empty()) {
        for (int i : r->kept) values.push_back(p.choices[static_cast<std::size_t>(i)]);
      } else {
        values = p.choices;
      }
      out[p.name] = {{"values", values}};
    } else {
      auto [a, b] = r ? value_range(p, r->lo, r->hi) : std::pair{p.low, p.high};
      out[p.name] = {{"low", p.external(a)}, {"high", p.external(b)}};
    }
  }
  return out;
}

// ---- zoom_box ---------------------------------------------------------------------------

ZoomBox zoom_box(const SearchSpace& space, const std::vector<TrialRecord>& trials,
                 Direction direction, double keep, double margin) {
  std::vector<const TrialRecord*> all;
  all.reserve(trials.size());
  for (const auto& t : trials) all.push_back(&t);
  return zoom_box(space, all, direction, keep, margin);
}

ZoomBox zoom_box(const SearchSpace& space, const std::vector<const TrialRecord*>& trials,
                 Direction direction, double keep, double margin) {
  if (!(keep > 0 && keep <= 1))
    throw UsageError("keep", fmt::format("must be in (0, 1], got {}", keep));
  if (!(margin >= 0) || !std::isfinite(margin))
    throw UsageError("margin", fmt::format("must be a number >= 0, got {}", margin));
  std::vector<const TrialRecord*> done;
  for (const TrialRecord* t : trials)
    if (t->state == TrialState::Complete && t->value && std::isfinite(*t->value)) done.push_back(t);
  std::stable_sort(done.begin(), done.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    if (*a->value != *b->value) return better(direction, *a->value, *b->value);
    return a->number < b->number;
  });
  ZoomBox box = ZoomBox::whole(space);
  box.trials = static_cast<int>(done.size());
  box.kept = done.empty() ? 0 : kept_count(keep, done.size());
  for (auto& range : box.ranges) {
    const Parameter& p = space.at(range.name);
    std::vector<double> values;  // of the trials where p is active, best first
    for (const TrialRecord* t : done) {
      auto it = t->params.find(p.name);
      if (it != t->params.end()) values.push_back(it->second);
    }
    if (values.size() < 2) continue;  // active in fewer than two trials: the full range stays
    values.resize(static_cast<std::size_t>(kept_count(keep, values.size())));
    range.support = static_cast<int>(values.size());
    if (p.type == ParamType::Choice) {
      std::set<int> kept;
      for (double v : values) kept.insert(static_cast<int>(v));
      range.kept.assign(kept.begin(), kept.end());
      continue;
    }
    double lo = 1, hi = 0;
    for (double v : values) {
      auto [a, b] = unit_cell(p, v);
      lo = std::min(lo, a), hi = std::max(hi, b);
    }
    double pad = margin * std::max(hi - lo, kZoomMinWidth);
    range.lo = std::max(0.0, lo - pad);
    range.hi = std::min(1.0, hi + pad);
    if (!(range.lo < range.hi)) range.lo = 0, range.hi = 1;  // margin 0 and one float value
  }
  return box;
}

// ---- narrow -----------------------------------------------------------------------------

SearchSpace narrow(const SearchSpace& space, const ZoomBox& box) {
  std::vector<Parameter> params;
  for (const auto& original : space.params()) {
    Parameter p = original;
    const ZoomRange* r = box.find(p.name);
    if (r && p.type == ParamType::Choice) {
      if (!r->kept.empty()) {
        p.choices.clear();
        for (int i : r->kept) p.choices.push_back(original.choices[static_cast<std::size_t>(i)]);
      }
    } else if (r && (r->lo > 0 || r->hi < 1)) {
      auto [a, b] = value_range(original, r->lo, r->hi);
      double exact = unit_width(original, a, b);
      std::pair<double, double> rounded{original.low, original.high};
      for (int digits = 1; digits <= 15; ++digits) {
        rounded = round_outward(original, a, b, digits);
        if (unit_width(original, rounded.first, rounded.second) <= 1.25 * exact + 1e-12) break;
      }
      p.low = rounded.first, p.high = rounded.second;
    }
    params.push_back(std::move(p));
  }
  // Conditions on a choice follow its kept values; a parameter whose condition can no
  // longer hold (or whose condition's parameter is gone) is left out.
  std::set<std::string> dropped;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& p : params) {
      if (!p.when || dropped.count(p.name)) continue;
      const std::string& parent_name = p.when->param;
      if (dropped.count(parent_name)) {
        dropped.insert(p.name), changed = true;
        continue;
      }
      auto parent = std::find_if(params.begin(), params.end(),
                                 [&](const Parameter& q) { return q.name == parent_name; });
      if (parent == params.end() || parent->type != ParamType::Choice) continue;
      std::vector<std::string> texts, allowed;
      for (std::size_t i = 0; i < parent->choices.size(); ++i) {
        texts.push_back(parent->text(static_cast<double>(i)));
        if (p.when->holds(texts.back())) allowed.push_back(texts.back());
      }
      if (allowed.empty()) {
        dropped.insert(p.name), changed = true;
        continue;
      }
      bool intact = std::all_of(p.when->values.begin(), p.when->values.end(), [&](const auto& v) {
        return std::find(texts.begin(), texts.end(), v) != texts.end();
      });
      if (!intact) p.when = Condition::parse(condition_text(parent_name, allowed), p.name + ".when");
    }
  }
  std::erase_if(params, [&](const Parameter& p) { return dropped.count(p.name) > 0; });
  return SearchSpace(std::move(params));
}

}  // namespace caviar
