"""Saved filters (`/rest/api/{2,3}/filter`)."""

from __future__ import annotations

from twins.jira.dependencies import bool_param, multi
from twins.jira.routes.common import API, Operations, api_router, max_results, query_param, start_at
from twins.jira.service import filters

router = api_router()
ops = Operations(router)

ops.add("POST", API + "/filter", "createFilter", filters.create_filter, body=True)
ops.add("GET", API + "/filter/favourite", "getFavouriteFilters", filters.favourites)
ops.add(
    "GET",
    API + "/filter/my",
    "getMyFilters",
    filters.my_filters,
    query={"include_favourites": lambda r: bool_param(r, "includeFavourites")},
)
ops.add(
    "GET",
    API + "/filter/search",
    "getFiltersPaginated",
    filters.search_filters,
    query={
        "name": query_param("filterName"),
        "account_id": query_param("accountId"),
        "ids": lambda r: multi(r, "id"),
        "order_by": query_param("orderBy"),
        "expand": lambda r: multi(r, "expand"),
        "start_at": start_at,
        "max_results": max_results,
    },
)
ops.add("GET", API + "/filter/{filter_id}", "getFilter", filters.get_filter)
ops.add("PUT", API + "/filter/{filter_id}", "updateFilter", filters.update_filter, body=True)
ops.add("DELETE", API + "/filter/{filter_id}", "deleteFilter", filters.delete_filter)
ops.add(
    "PUT",
    API + "/filter/{filter_id}/favourite",
    "setFavouriteForFilter",
    lambda ctx, filter_id: filters.set_favourite(ctx, filter_id=filter_id, on=True),
)
ops.add(
    "DELETE",
    API + "/filter/{filter_id}/favourite",
    "deleteFavouriteForFilter",
    lambda ctx, filter_id: filters.set_favourite(ctx, filter_id=filter_id, on=False),
)
