#include "driver/cmd_export.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "backend/sentinel/sentinel.h"
#include "backend/sigma/sigma.h"

namespace ward::driver {

bool is_export_target(const std::string& target) {
  return target == "sentinel-yaml" || target == "sentinel-arm" || target == "sigma";
}

bool output_is_directory(const std::string& out) {
  if (out.empty() || out == "-") return false;
  std::error_code ec;
  return out.back() == '/' || std::filesystem::is_directory(out, ec);
}

std::vector<OutputFile> export_rules(Compilation& c, const std::string& target, bool per_rule, bool allow_lossy) {
  if (target == "sigma") {
    std::vector<OutputFile> docs;
    bool failed = false;
    for (const auto& r : c.module.rules) {
      auto text = backend::sigma::emit(c.module, r, {allow_lossy}, c.sink);
      if (text) docs.push_back({r.name + ".yml", *text});
      else failed = true;
    }
    if (failed) return {};
    if (per_rule) return docs;
    std::string all;
    for (std::size_t i = 0; i < docs.size(); ++i) all += (i ? "---\n" : "") + docs[i].text;
    return {{"", all}};
  }
  namespace s = backend::sentinel;
  std::vector<s::AlertRule> built;
  bool failed = false;
  for (const auto& r : c.module.rules) {
    auto a = s::build(c.module, r, c.sink);
    if (a) built.push_back(std::move(*a));
    else failed = true;
  }
  if (failed) return {};
  std::vector<OutputFile> out;
  const bool yaml = target == "sentinel-yaml";
  if (per_rule) {
    for (const auto& a : built)
      out.push_back({a.rule + (yaml ? ".yaml" : ".json"), yaml ? s::yaml(a) : s::arm({a})});
    return out;
  }
  std::string text;
  if (yaml) {
    for (std::size_t i = 0; i < built.size(); ++i) text += (i ? "---\n" : "") + s::yaml(built[i]);
  } else {
    text = s::arm(built);
  }
  out.push_back({"", text});
  return out;
}

int write_exports(const std::vector<OutputFile>& files, const std::string& out, bool per_rule) {
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    if (!f || !(f << text)) {
      std::cerr << fmt::format("error: cannot write `{}`\n", path);
      return false;
    }
    return true;
  };
  if (!per_rule) {
    if (files.empty()) return 0;
    if (out.empty() || out == "-") {
      std::cout << files[0].text;
      return 0;
    }
    return write(out, files[0].text) ? 0 : 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::cerr << fmt::format("error: cannot create directory `{}`: {}\n", out, ec.message());
    return 2;
  }
  for (const auto& f : files)
    if (!write((std::filesystem::path(out) / f.name).string(), f.text)) return 2;
  return 0;
}

}  // namespace ward::driver
