#include "music/catalog_words.hpp"

namespace stagepass::music::words {

const std::vector<std::string_view>& adjectives() {
  static const std::vector<std::string_view> v = {
      "Silver",   "Golden",    "Midnight", "Electric", "Velvet", "Broken",   "Crystal",  "Neon",
      "Hollow",   "Wild",      "Quiet",    "Burning",  "Frozen", "Lonely",   "Crimson",  "Distant",
      "Endless",  "Fading",    "Gentle",   "Hidden",   "Lucky",  "Misty",    "Northern", "Painted",
      "Restless", "Sacred",    "Secret",   "Shining",  "Sleepy", "Stolen",   "Sweet",    "Twisted",
      "Violet",   "Wandering", "Young",    "Ancient",  "Blue",   "Bright",   "Cosmic",   "Dusty",
      "Early",    "Faded",     "Glass",    "Heavy",    "Lost",   "Magnetic", "Paper",    "Radiant",
      "Rusty",    "Savage",    "Solar",    "Static",   "Summer", "Tender",   "Urban",    "Winter"};
  return v;
}

const std::vector<std::string_view>& nouns() {
  static const std::vector<std::string_view> v = {
      "Heart",     "River",    "Ocean",    "Mountain", "City",    "Dream",  "Fire",    "Shadow",
      "Light",     "Storm",    "Road",     "Sky",      "Moon",    "Sun",    "Star",    "Garden",
      "Mirror",    "Echo",     "Wave",     "Forest",   "Desert",  "Window", "Harbor",  "Highway",
      "Island",    "Lantern",  "Meadow",   "Orchid",   "Parade",  "Radio",  "Rain",    "Signal",
      "Smoke",     "Thunder",  "Tide",     "Valley",   "Whisper", "Wolf",   "Horizon", "Engine",
      "Feather",   "Frontier", "Ghost",    "Kingdom",  "Machine", "Memory", "Motel",   "Rocket",
      "Satellite", "Season",   "Stranger", "Velocity", "Voyage",  "Wire",   "Anthem",  "Circus",
      "Comet",     "Diamond",  "Empire",   "Glacier"};
  return v;
}

const std::vector<std::string_view>& first_names() {
  static const std::vector<std::string_view> v = {
      "Ada",  "Bruno", "Clara", "Dante", "Elena", "Felix", "Greta",  "Hugo",  "Iris",  "Jonas",
      "Kira", "Leon",  "Maya",  "Nils",  "Olive", "Pablo", "Quinn",  "Rosa",  "Sami",  "Tove",
      "Umar", "Vera",  "Wim",   "Xenia", "Yara",  "Zeno",  "Astrid", "Bjorn", "Chloe", "Dario",
      "Elif", "Freya", "Gus",   "Hana",  "Ivo",   "Juno",  "Kai",    "Lina",  "Milo",  "Noor"};
  return v;
}

const std::vector<std::string_view>& last_names() {
  static const std::vector<std::string_view> v = {
      "Lindqvist", "Moreau", "Okafor",  "Petrov",  "Quintero", "Rossi",  "Sato",      "Tanaka",
      "Underwood", "Varga",  "Walsh",   "Xu",      "Yilmaz",   "Zimmer", "Andersson", "Baker",
      "Castillo",  "Dubois", "Eriksen", "Fischer", "Garcia",   "Holm",   "Ivanova",   "Jensen",
      "Kowalski",  "Larsen", "Martins", "Novak",   "Olsen",    "Park",   "Reyes",     "Silva"};
  return v;
}

const std::vector<std::string_view>& verbs() {
  static const std::vector<std::string_view> v = {
      "Chasing", "Dancing",  "Falling",  "Running",  "Waiting", "Dreaming", "Burning",
      "Calling", "Drifting", "Flying",   "Holding",  "Leaving", "Losing",   "Finding",
      "Riding",  "Singing",  "Breaking", "Crossing", "Fading",  "Counting"};
  return v;
}

const std::vector<std::string_view>& genres() {
  static const std::vector<std::string_view> v = {
      "indie pop",   "synthwave", "dream pop",         "post-rock",  "alt country", "deep house",
      "neo soul",    "shoegaze",  "garage rock",       "ambient",    "jazz fusion", "folk",
      "trip hop",    "techno",    "bossa nova",        "hip hop",    "r&b",         "drum and bass",
      "chamber pop", "punk",      "singer-songwriter", "electropop", "blues rock",  "lo-fi beats",
      "metal",       "k-pop",     "afrobeat",          "reggae",     "classical",   "soundtrack"};
  return v;
}

const std::vector<std::string_view>& label_words() {
  static const std::vector<std::string_view> v = {
      "Northbound", "Blue Harbor", "Static Bloom", "Paper Moon", "Lighthouse", "Copperline",
      "Wildfern",   "Night Shift", "Glass House",  "Low Orbit",  "Sundial",    "Red Brick"};
  return v;
}

}  // namespace stagepass::music::words
