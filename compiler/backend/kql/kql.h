// KQL backend: one query per rule, readable and consistently formatted, with the
// exact event-time semantics of docs/semantics.md.
#pragma once
#include <map>
#include <string>

#include "ir/ir.h"

namespace ward::backend::kql {

struct Options {
  bool time_filter = true;  // `where TimeGenerated >= ago(period)` first
};

std::string emit(const ir::Module& m, const ir::Rule& r, const Options& opt = {});

// A KQL string literal whose value is exactly `s`, whatever it contains.
std::string string_literal(const std::string& s);
// A column or field name, bracket-quoted when it is not a plain identifier.
std::string name(const std::string& n);
// The Kusto scalar type name of an IR type.
const char* kusto_type(ir::Type t);

// The tables (and their columns' Kusto types) a rule's query reads, for checkers.
std::map<std::string, std::map<std::string, std::string>> tables_used(const ir::Module& m, const ir::Rule& r);

}  // namespace ward::backend::kql
