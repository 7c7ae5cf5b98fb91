// open_source(): picks the source implementation by type. SQLite is the default because a model
// is usually a query over a local database export.
#include "sources/source.hpp"
#include "sources/source_util.hpp"

namespace synchost {

std::unique_ptr<RowSource> open_source(const SourceConfig &config) {
    const std::string &type = config.type;
    if (type.empty() || type == "sqlite") return sources::open_sqlite(config);
    if (type == "csv") return sources::open_csv(config);
    if (type == "jsonl") return sources::open_jsonl(config);
    if (type == "postgres") return sources::open_postgres(config);
    throw SourceError("unknown source type '" + type + "' (expected sqlite, csv, jsonl or postgres)");
}

}  // namespace synchost
