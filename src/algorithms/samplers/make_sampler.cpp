// The sampler factory: a sampler by name, with its own settings checked.
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/settings.h"

namespace caviar {

std::unique_ptr<Sampler> make_sampler(const SamplerOptions& o) {
  detail::SamplerSettings settings(o.settings, o.name);
  std::unique_ptr<Sampler> sampler;
  if (o.name == "auto") {
    sampler = make_auto_sampler(o.seed);
  } else if (o.name == "random") {
    sampler = make_random_sampler(o.seed);
  } else if (o.name == "sobol") {
    sampler = make_sobol_sampler(o.seed);
  } else if (o.name == "grid") {
    sampler = make_grid_sampler(settings.integer("points", 5, 1, 1'000'000));
  } else if (o.name == "zoom") {
    ZoomSettings z;
    z.round = settings.integer("round", z.round, 1, 1'000'000);
    z.keep = settings.number("keep", z.keep, 0, 1);
    if (z.keep == 0) throw ConfigError("sampler.keep", "must be in (0, 1], got 0");
    z.rounds = settings.integer("rounds", z.rounds, 1, 1000);
    z.margin = settings.number("margin", z.margin, 0, 10);
    z.inner_sobol = settings.word("inner", "sobol", {"sobol", "random"}) == "sobol";
    sampler = make_zoom_sampler(o.seed, z);
  } else if (o.name == "tpe") {
    TpeOptions t;
    t.multivariate = settings.flag("multivariate", t.multivariate);
    t.startup = settings.integer("startup", t.startup, 0, 1'000'000);
    t.startup_sobol = settings.word("startup_sampler", "sobol", {"sobol", "random"}) == "sobol";
    t.candidates = settings.integer("candidates", t.candidates, 1, 100'000);
    t.gamma = settings.number("gamma", t.gamma, 0, 1);
    if (t.gamma == 0) throw ConfigError("sampler.gamma", "must be in (0, 1], got 0");
    t.good_max = settings.integer("good_max", t.good_max, 1, 1'000'000);
    t.constant_liar = settings.flag("constant_liar", t.constant_liar);
    t.prior_weight = settings.number("prior_weight", t.prior_weight, 0, 1e6);
    if (t.prior_weight == 0)
      throw ConfigError("sampler.prior_weight", "must be in (0, 1e6], got 0");
    t.bandwidth = settings.word("bandwidth", t.bandwidth, {"scott", "neighbour"});
    t.rank_weights = settings.flag("rank_weights", t.rank_weights);
    sampler = make_tpe_sampler(o.seed, t);
  } else if (o.name == "cmaes") {
    CmaEsSamplerOptions c;
    c.startup = settings.integer("startup", c.startup, 0, 1'000'000);
    c.sigma0 = settings.number("sigma0", c.sigma0, 0, 1);
    if (c.sigma0 == 0) throw ConfigError("sampler.sigma0", "must be in (0, 1], got 0");
    c.popsize = settings.integer("popsize", c.popsize, 0, 100'000);
    if (c.popsize == 1) throw ConfigError("sampler.popsize", "must be 0 (default) or at least 2, got 1");
    c.ipop = settings.word("restarts", c.ipop ? "ipop" : "none", {"ipop", "none"}) == "ipop";
    sampler = make_cmaes_sampler(o.seed, c);
  } else if (o.name == "gp") {
    GpOptions g;
    g.startup = settings.integer("startup", g.startup, 1, 1'000'000);
    g.candidates = settings.integer("candidates", g.candidates, 1, 1'000'000);
    g.refine = settings.integer("refine", g.refine, 1, 1000);
    g.max_trials = settings.integer("max_trials", g.max_trials, 2, 5000);
    g.fit_trials = settings.integer("fit_trials", g.fit_trials, 2, 5000);
    g.restarts = settings.integer("restarts", g.restarts, 1, 100);
    std::string t = settings.word("transform", "auto", {"auto", "none", "rank"});
    g.transform = t == "auto"   ? GpOptions::Transform::Auto
                  : t == "none" ? GpOptions::Transform::None
                                : GpOptions::Transform::Rank;
    g.pruned = settings.word("pruned", "aligned", {"aligned", "last"}) == "aligned"
                   ? GpOptions::Pruned::Aligned
                   : GpOptions::Pruned::Last;
    std::string cost = settings.word("cost", "off", {"auto", "on", "off"});
    g.cost = cost == "auto" ? GpOptions::Cost::Auto : cost == "on" ? GpOptions::Cost::On : GpOptions::Cost::Off;
    g.noise = settings.word("noise", "auto", {"auto", "prior"}) == "auto" ? GpOptions::Noise::Auto
                                                                      : GpOptions::Noise::Prior;
    std::string acquisition = settings.word("acquisition", "auto", {"auto", "ei", "aei"});
    g.acquisition = acquisition == "auto" ? GpOptions::Acquisition::Auto
                    : acquisition == "ei" ? GpOptions::Acquisition::Ei
                                          : GpOptions::Acquisition::Aei;
    g.indifference = settings.number("indifference", g.indifference, 0, 1e6);
    sampler = make_gp_sampler(o.seed, g);
  } else {
    throw ConfigError("sampler.name", fmt::format("unknown sampler '{}'; available: auto, "
                                                  "random, sobol, grid, zoom, tpe, cmaes, gp", o.name));
  }
  settings.finish();
  return sampler;
}

}  // namespace caviar
