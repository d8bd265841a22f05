// How a setting's text becomes its value (config_table.hpp's SettingParser kinds): the
// parsers and their messages, which are part of the operator contract. Apart from the table
// (config_table.cpp), which says which settings exist.
#include <charconv>
#include <stdexcept>
#include <utility>

#include "app/config_table.hpp"

namespace stagepass {
namespace {

using Kind = SettingParser::Kind;

int64_t parse_int(const std::string& name, const std::string& v, int64_t min, int64_t max) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < min || n > max) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw std::runtime_error(name + " must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max) + ", got '" + v + "'");
  }
}

bool parse_bool(const std::string& name, const std::string& v) {
  if (v == "on" || v == "true" || v == "1") return true;
  if (v == "off" || v == "false" || v == "0") return false;
  throw std::runtime_error(name + " must be on/off, got '" + v + "'");
}

double parse_scale(const std::string& name, const std::string& v, int64_t above, int64_t max) {
  double d = 0;
  try {
    d = std::stod(v);
  } catch (const std::exception&) {
    throw std::runtime_error(name + " must be a number, got '" + v + "'");
  }
  if (d <= static_cast<double>(above) || d > static_cast<double>(max))
    throw std::runtime_error(name + " must be in (" + std::to_string(above) + ", " +
                             std::to_string(max) + "]");
  return d;
}

}  // namespace

int64_t parse_duration(const std::string& name, const std::string& v, int64_t min, int64_t max) {
  if (v.empty() && min == 0) return 0;
  const std::string why = name + " must be a duration from " + std::to_string(min) + "s to " +
                          std::to_string(max) +
                          "s (seconds, or a number with s, m, h or d: " + "90d), got '" + v + "'";
  constexpr std::pair<char, int64_t> kUnits[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  int64_t unit = 1;
  std::string digits = v;
  for (auto [suffix, seconds] : kUnits) {
    if (!digits.empty() && digits.back() == suffix) {
      unit = seconds;
      digits.pop_back();
      break;
    }
  }
  int64_t n = 0;
  const char* end = digits.data() + digits.size();
  auto [p, ec] = std::from_chars(digits.data(), end, n);
  if (digits.empty() || ec != std::errc() || p != end || n < 0 || n > max / unit)
    throw std::runtime_error(why);
  if (n * unit < min) throw std::runtime_error(why);
  return n * unit;
}

void apply_setting(Config& c, const Setting& s, const std::string& value,
                   const std::string& source) {
  const SettingParser& p = s.parser;
  switch (p.kind) {
    case Kind::kText:
      c.*std::get<std::string Config::*>(s.field) = value;
      return;
    case Kind::kSecret:
      c.*std::get<Secret Config::*>(s.field) = Secret(value);
      return;
    case Kind::kSwitch:
      c.*std::get<bool Config::*>(s.field) = parse_bool(source, value);
      return;
    case Kind::kScale:
      c.*std::get<double Config::*>(s.field) = parse_scale(source, value, p.min, p.max);
      return;
    case Kind::kDuration:
      c.*std::get<int64_t Config::*>(s.field) = parse_duration(source, value, p.min, p.max);
      return;
    case Kind::kInteger: {
      const int64_t n = parse_int(source, value, p.min, p.max);
      if (auto f = std::get_if<int Config::*>(&s.field))
        c.** f = static_cast<int>(n);  // in range: parser_fits_field
      else
        c.*std::get<int64_t Config::*>(s.field) = n;
      return;
    }
  }
}

}  // namespace stagepass
