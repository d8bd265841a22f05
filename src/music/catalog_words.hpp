// Word lists the catalog generator draws names from. Fixed: changing them changes every
// generated name (ids do not depend on them).
#pragma once

#include <string_view>
#include <vector>

namespace stagepass::music::words {

const std::vector<std::string_view>& adjectives();
const std::vector<std::string_view>& nouns();
const std::vector<std::string_view>& first_names();
const std::vector<std::string_view>& last_names();
const std::vector<std::string_view>& verbs();
const std::vector<std::string_view>& genres();
const std::vector<std::string_view>& label_words();

}  // namespace stagepass::music::words
