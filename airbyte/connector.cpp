#include "connector.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace airbyte {

namespace json = boost::json;

const std::vector<ModeRoute> &mode_routes() {
    static const std::vector<ModeRoute> kRoutes = {
        {"append", SP_SYNC_INSERT, SP_OP_UPSERT, nullptr},
        {"append_dedup", SP_SYNC_UPSERT, SP_OP_UPSERT, nullptr},
        {"update", SP_SYNC_UPDATE, SP_OP_UPSERT, nullptr},
        {"soft_delete", SP_SYNC_MIRROR, SP_OP_DELETE, nullptr},
        {"overwrite", 0, 0,
         "overwrite would have the destination drop everything it holds first, which no syncplugin mode does"},
    };
    return kRoutes;
}

std::optional<ModeRoute> route_for(const spmanifest::Manifest &m, const std::string &airbyte_mode, std::string &why) {
    for (const ModeRoute &r : mode_routes()) {
        if (airbyte_mode != r.airbyte) continue;
        if (r.sync_mode == 0) {
            why = r.why_not;
            return std::nullopt;
        }
        if ((m.sync_modes & r.sync_mode) == 0) {
            why = "destination_sync_mode " + airbyte_mode + " needs sync mode " +
                  spmanifest::sync_mode_names(r.sync_mode).front() + ", and " + m.id + " supports " +
                  (m.sync_modes ? json::serialize(json::value_from(spmanifest::sync_mode_names(m.sync_modes)))
                                : std::string("no row sync mode"));
            return std::nullopt;
        }
        return r;
    }
    why = "unknown destination_sync_mode \"" + airbyte_mode + "\"";
    return std::nullopt;
}

namespace {

json::object config_property(const spmanifest::ConfigField &c) {
    json::object p{{"title", c.label.empty() ? c.key : c.label}, {"description", c.description}};
    switch (c.type) {
        case SP_CONFIG_INTEGER:
            p["type"] = "integer";
            if (c.min_value || c.max_value) {
                p["minimum"] = c.min_value;
                p["maximum"] = c.max_value;
            }
            if (c.has_default) p["default"] = std::stoll(c.default_value);
            break;
        case SP_CONFIG_BOOLEAN:
            p["type"] = "boolean";
            if (c.has_default) p["default"] = c.default_value == "true";
            break;
        case SP_CONFIG_ENUM:
            p["type"] = "string";
            p["enum"] = json::value_from(c.enum_values);
            if (c.has_default) p["default"] = c.default_value;
            break;
        default:
            p["type"] = "string";
            if (!c.pattern.empty()) p["pattern"] = c.pattern;
            if (c.has_default) p["default"] = c.default_value;
            if (c.type == SP_CONFIG_SECRET) p["airbyte_secret"] = true;
    }
    return p;
}

json::object field_schema(const spmanifest::DestinationField &f) {
    json::object s{{"description", f.description}};
    switch (f.type) {
        case SP_FIELD_INTEGER:
            s["type"] = "integer";
            break;
        case SP_FIELD_DECIMAL:
            s["type"] = json::array{"number", "string"};
            break;
        case SP_FIELD_BOOLEAN:
            s["type"] = "boolean";
            break;
        case SP_FIELD_TIMESTAMP:
            s["type"] = json::array{"string", "integer"};
            break;
        case SP_FIELD_STRING_LIST:
            s["type"] = json::array{"array", "string"};
            break;
        case SP_FIELD_JSON:
            s["type"] = json::array{"object", "array", "string"};
            break;
        default:
            s["type"] = "string";
    }
    if (!f.values.empty()) s[(f.flags & SP_FIELD_CLOSED_VALUES) ? "enum" : "examples"] = json::value_from(f.values);
    return s;
}

}  // namespace

json::object connector_specification(const spmanifest::Manifest &m) {
    json::object props;
    json::array required;
    for (const auto &c : m.config) {
        props[c.key] = config_property(c);
        if (c.required) required.emplace_back(c.key);
    }
    if (m.auth.kinds & SP_AUTH_STATIC_TOKEN) {
        props[kTokenKey] =
            json::object{{"title", "Access token"},
                         {"type", "string"},
                         {"airbyte_secret", true},
                         {"description", m.auth.static_token_help.empty() ? "A bearer token for the destination."
                                                                          : m.auth.static_token_help}};
        required.emplace_back(kTokenKey);
    }
    props[kMappingKey] =
        json::object{{"title", "Field mapping"},
                     {"type", "object"},
                     {"additionalProperties", json::object{{"type", "string"}}},
                     {"description",
                      "Destination field -> record field. Without it, each record field named like a destination "
                      "field (see the destination catalog) feeds that field."}};
    json::array modes;
    for (const ModeRoute &r : mode_routes())
        if (r.sync_mode && (m.sync_modes & r.sync_mode)) modes.emplace_back(r.airbyte);
    return {{"supported_destination_sync_modes", std::move(modes)},
            {"connectionSpecification",
             {{"$schema", "http://json-schema.org/draft-07/schema#"},
              {"title", m.name},
              {"description", m.description},
              {"type", "object"},
              {"required", std::move(required)},
              {"additionalProperties", true},
              {"properties", std::move(props)}}}};
}

json::object destination_catalog(const spmanifest::Manifest &m) {
    json::object props;
    for (const auto &f : m.fields) props[f.name] = field_schema(f);
    // Required-field rules: at least one field of each rule.
    json::array all_of;
    for (const auto &r : m.required) {
        json::array any_of;
        for (const auto &f : r.any_of) any_of.push_back(json::object{{"required", json::array{json::value(f)}}});
        all_of.push_back(json::object{{"anyOf", std::move(any_of)}, {"description", r.description}});
    }
    json::object schema{{"type", "object"},
                        {"properties", std::move(props)},
                        {"additionalProperties", (m.features & SP_FEATURE_OPEN_FIELDS) != 0}};
    if (!all_of.empty()) schema["allOf"] = std::move(all_of);
    json::array operations;
    for (const ModeRoute &r : mode_routes())
        if (r.sync_mode && (m.sync_modes & r.sync_mode))
            operations.push_back(
                json::object{{"object_name", m.id}, {"sync_mode", r.airbyte}, {"json_schema", schema}});
    return {{"operations", std::move(operations)}};
}

Connection read_connection(const json::object &config, const spmanifest::Manifest &m) {
    Connection c;
    for (const auto &[key, value] : config) {
        const std::string k(key);
        if (k == kTokenKey) {
            if (!value.is_string() || value.get_string().empty())
                throw ConfigError("config key \"access_token\" must be a non-empty string");
            c.token = value.get_string();
            continue;
        }
        if (k == kMappingKey) {
            if (!value.is_object()) throw ConfigError("config key \"mapping\" must be an object of field names");
            for (const auto &[dest, src] : value.get_object()) {
                if (!src.is_string() || src.get_string().empty())
                    throw ConfigError("config key \"mapping\": \"" + std::string(dest) + "\" must name a record field");
                if (!m.field(dest) && !(m.features & SP_FEATURE_OPEN_FIELDS))
                    throw ConfigError("config key \"mapping\": \"" + std::string(dest) +
                                      "\" is not a destination field of " + m.id);
                c.mapping.emplace_back(dest, src.get_string());
            }
            continue;
        }
        const spmanifest::ConfigField *f = m.config_field(k);
        if (f == nullptr) {
            c.ignored.push_back(k);
            continue;
        }
        std::string text;
        if (value.is_string())
            text = value.get_string();
        else if (value.is_bool())
            text = value.get_bool() ? "true" : "false";
        else if (value.is_int64())
            text = std::to_string(value.get_int64());
        else if (value.is_uint64())
            text = std::to_string(value.get_uint64());
        else if (value.is_null())
            continue;
        else
            throw ConfigError("config key \"" + k + "\" must be a string, a number or a boolean");
        c.config.emplace_back(k, std::move(text));
    }
    if ((m.auth.kinds & SP_AUTH_STATIC_TOKEN) && c.token.empty())
        throw ConfigError("config key \"access_token\" is missing: " + m.id + " needs a token");
    return c;
}

}  // namespace airbyte
