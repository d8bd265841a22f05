// The settings table: for every setting of Config, its TOML key, its environment variable,
// how its text is parsed (with its bounds), its default and one line saying what it means,
// declared once (config_table.cpp). Config() takes the defaults from it and Config::load()
// applies the file and the environment by walking it; config_test.cpp checks it against the
// settings table of docs/operations.md.
// Thread safety: the table is immutable; apply_setting() writes only the Config it is given.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "app/config.hpp"

namespace stagepass {

// How a setting's text becomes its value. Every number is bounded: a value outside its range
// stops startup with one line naming the setting and the range, never a wrapped value.
struct SettingParser {
  enum class Kind {
    kText,     // taken as written
    kInteger,  // a base-10 integer in [min, max]
    kSwitch,   // on/true/1 or off/false/0
    kScale,    // a decimal number in (min, max]
    kSecret,   // taken as written into a Secret (never logged)
    // Seconds in [min, max] written as a base-10 integer or one with a unit: 90s, 30m, 12h,
    // 90d; empty is 0 (off).
    kDuration,
  };
  Kind kind = Kind::kText;
  int64_t min = 0;
  int64_t max = 0;
};

// The Config field a setting writes.
using SettingField = std::variant<std::string Config::*, int64_t Config::*, int Config::*,
                                  bool Config::*, double Config::*, Secret Config::*>;

struct Setting {
  std::string_view key;  // TOML key
  std::string_view env;  // environment variable: STAGEPASS_ and the key in upper case
  SettingField field;
  SettingParser parser;
  std::string_view default_value;  // as an operator would write it; empty: unset
  std::string_view doc;            // what it means, one line
  // The default as docs/operations.md shows it, when that is not the value itself (a
  // default derived from other settings, such as `<issuer>/v1`); empty: see
  // documented_default().
  std::string_view shown_default = {};
  // Non-empty: the setting is read from the environment only, and a config file naming it
  // is refused with this message (a secret has no business in a file that gets copied).
  std::string_view not_in_file = {};
};

// Every setting, in the order docs/operations.md lists them.
std::span<const Setting> settings();

// The setting whose TOML key is `key`, or nullptr.
const Setting* find_setting(std::string_view key);

// The default column of the setting's row in docs/operations.md: shown_default if set, else
// the default value in backquotes, else "—" (unset).
std::string documented_default(const Setting& s);

// "90d" → 7776000 (kDuration's syntax: seconds, or a number with s, m, h or d). Throws
// std::runtime_error naming `name` and the range [min, max] seconds. "" is 0 when min is 0.
int64_t parse_duration(const std::string& name, const std::string& value, int64_t min, int64_t max);

// Parses `value` with the setting's parser into its field of `c`. Throws std::runtime_error
// naming `source` (the variable or the file) and, for numbers, the range.
void apply_setting(Config& c, const Setting& s, const std::string& value,
                   const std::string& source);

}  // namespace stagepass
