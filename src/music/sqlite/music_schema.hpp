// Migrations of the music database (its own file, apart from the accounts database),
// applied by PRAGMA user_version. Append only: a released migration never changes.
#pragma once

namespace stagepass::sqlite {
class Connection;
}

namespace stagepass::music {
void migrate_music(sqlite::Connection& db);
}  // namespace stagepass::music
