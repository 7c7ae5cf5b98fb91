// Limited Data Processing: which events carry opt_out_type LDP, that they carry st and country,
// and that the others carry no opt_out_type.
#include "one_row.hpp"

using test_support::OneRow;
using testing_support::sha256_hex;

namespace {

OneRow in_state(const char *state) {
    OneRow row;
    row.options.ldp_states = {"ca", "co"};
    row.text("state", state);
    return row;
}

}  // namespace

TEST(Ldp, AListedStateInTheUsIsLdpAndGetsTheCountryUs) {
    uint32_t ldp = 0;
    std::string rejected;
    const boost::json::object event = in_state("California").encode(rejected, &ldp);
    ASSERT_EQ(rejected, "");
    EXPECT_EQ(event.at("custom_data").at("opt_out_type").as_string(), "LDP");
    EXPECT_EQ(event.at("user_data").at("st").at(0).as_string(), sha256_hex("ca"));
    EXPECT_EQ(event.at("user_data").at("country").at(0).as_string(), sha256_hex("us"));
    EXPECT_EQ(ldp, 1u);
}

TEST(Ldp, OtherStatesAndOtherCountriesAreNotLdpAndCarryNoOptOutType) {
    OneRow elsewhere = in_state("CA");
    elsewhere.text("country", "Canada");
    OneRow no_list;  // no ldp_states configured
    no_list.text("state", "CA");
    for (const OneRow &row : {in_state("NY"), elsewhere, no_list}) {
        uint32_t ldp = 7;
        std::string rejected;
        const boost::json::object event = row.encode(rejected, &ldp);
        ASSERT_EQ(rejected, "");
        EXPECT_FALSE(event.contains("custom_data")) << boost::json::serialize(event);
        EXPECT_EQ(ldp, 0u);
    }
    // No country is invented for an event that is not LDP.
    EXPECT_FALSE(in_state("NY").encode_ok().at("user_data").as_object().contains("country"));
}

TEST(Ldp, ATrueLdpFieldMakesAnyEventLdpButItNeedsStateAndCountry) {
    OneRow full;
    full.text("ldp", "true").text("state", "TX").text("country", "US");
    const boost::json::object event = full.encode_ok();
    EXPECT_EQ(event.at("custom_data").at("opt_out_type").as_string(), "LDP");
    EXPECT_EQ(event.at("user_data").at("country").at(0).as_string(), sha256_hex("us"));

    EXPECT_EQ(OneRow().text("ldp", "1").text("country", "US").rejection(),
              "ldp: an LDP event needs its state: map state (or hashed_state) so that Pinterest can apply the "
              "state's rules");
    EXPECT_EQ(OneRow().text("ldp", "yes").text("state", "TX").rejection(),
              "ldp: an LDP event needs its country: map country (or hashed_country)");
    EXPECT_EQ(OneRow().text("ldp", "false").encode_ok().contains("custom_data"), false);
}

TEST(Ldp, AMappedOptOutTypeKeepsItsItemsAndGainsLdpOnce) {
    EXPECT_EQ(in_state("CO").text("opt_out_type", "OTHER").encode_ok().at("custom_data").at("opt_out_type").as_string(),
              "OTHER,LDP");
    EXPECT_EQ(
        in_state("CO").text("opt_out_type", "x, ldp").encode_ok().at("custom_data").at("opt_out_type").as_string(),
        "x, ldp");
    EXPECT_EQ(in_state("NY").text("opt_out_type", "OTHER").encode_ok().at("custom_data").at("opt_out_type").as_string(),
              "OTHER");
}
