// Early return on error for Result<T> / Status values, so loaders read as a list of checks.
#pragma once

#define MD_CONCAT_INNER(a, b) a##b
#define MD_CONCAT(a, b) MD_CONCAT_INNER(a, b)

// MD_ASSIGN_OR_RETURN(auto x, expr): evaluates a Result<T>; returns its Error, or binds the value.
#define MD_ASSIGN_OR_RETURN(decl, expr)                                  \
    auto MD_CONCAT(md_result_, __LINE__) = (expr);                       \
    if (!MD_CONCAT(md_result_, __LINE__).ok()) return MD_CONCAT(md_result_, __LINE__).error(); \
    decl = std::move(MD_CONCAT(md_result_, __LINE__).value())

// MD_RETURN_IF_ERROR(status): returns the Error of a Status (std::optional<Error>).
#define MD_RETURN_IF_ERROR(expr)                                   \
    do {                                                           \
        auto md_status_ = (expr);                                  \
        if (md_status_) return *md_status_;                        \
    } while (0)
