#include "json_print.hpp"

#include <boost/json/serialize.hpp>

namespace stagepass::cli {
namespace {

void print(const boost::json::value& v, std::string& out, int depth) {
  auto indent = [&](int d) { out.append(static_cast<size_t>(d) * 2, ' '); };
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    size_t i = 0;
    for (const auto& [key, value] : o) {
      indent(depth + 1);
      out += boost::json::serialize(boost::json::value(key));
      out += ": ";
      print(value, out, depth + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    indent(depth);
    out += '}';
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      indent(depth + 1);
      print(a[i], out, depth + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    indent(depth);
    out += ']';
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

std::string pretty_json(const boost::json::value& v) {
  std::string out;
  print(v, out, 0);
  return out;
}

}  // namespace stagepass::cli
