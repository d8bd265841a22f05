// Indented JSON for people reading a terminal (Boost.JSON serialises on one line only).
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace stagepass::cli {

std::string pretty_json(const boost::json::value& v);

}  // namespace stagepass::cli
