// The template half of for_each_list_item (included at the end of values.hpp). The walk itself is
// the non-template for_each_list_item_impl in values.cpp, so that JSON parsing (Boost.JSON) stays
// out of this header; the template only adapts the caller's callable to a function pointer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace pcapi {
namespace detail {

using ListItemFn = Reason (*)(void *ctx, std::string_view item);

// See for_each_list_item. `fn(ctx, item)` is called for each item; `item` may point into
// `scratch`, which is overwritten by the next item.
Reason for_each_list_item_impl(const sp_value &v, char delimiter, std::string &scratch, ListItemFn fn, void *ctx);

}  // namespace detail

template <class F>
Reason for_each_list_item(const sp_value &v, char delimiter, std::string &scratch, F &&each) {
    using Fn = std::remove_reference_t<F>;
    static_assert(std::is_convertible_v<std::invoke_result_t<Fn &, std::string_view>, Reason>,
                  "each(std::string_view) must return a Reason");
    auto thunk = [](void *ctx, std::string_view item) -> Reason { return (*static_cast<Fn *>(ctx))(item); };
    return detail::for_each_list_item_impl(v, delimiter, scratch, thunk,
                                           const_cast<void *>(static_cast<const void *>(std::addressof(each))));
}

}  // namespace pcapi
