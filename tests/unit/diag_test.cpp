#include <catch2/catch.hpp>

#include "diag/diag.h"
#include "sema/sema.h"

using namespace ward;

TEST_CASE("did-you-mean picks the closest candidate") {
  std::vector<std::string> cols = {"Operation", "OperationProperties", "OrganizationId", "UserId"};
  CHECK(diag::closest("Operatoin", cols) == "Operation");
  CHECK(diag::closest("userid", cols) == "UserId");
  CHECK(diag::closest("Zzzzzz", cols).empty());
}

TEST_CASE("diagnostics render with file:line:col, source line and a caret under the span") {
  source::SourceManager sm;
  auto id = sm.add("r.ward", "line one\n  $x = OfficeActivity where Operatoin == \"a\"\n");
  diag::Sink sink;
  std::uint32_t b = static_cast<std::uint32_t>(sm.file(id).text().find("Operatoin"));
  sink.report(diag::Code::UnknownColumn, {id, b, b + 9}, "unknown column 'Operatoin' in table 'OfficeActivity'")
      .help("did you mean `Operation`?");
  auto text = diag::render_text(sink.all()[0], sm, false);
  CHECK(text.find("r.ward:2:29: error[E0204]: unknown column 'Operatoin' in table 'OfficeActivity'") == 0);
  CHECK(text.find("^^^^^^^^^") != std::string::npos);
  CHECK(text.find("^^^^^^^^^^") == std::string::npos);
  CHECK(text.find("help: did you mean `Operation`?") != std::string::npos);
  CHECK(sink.error_count() == 1);
}

TEST_CASE("derived rule ids are stable RFC 9562 version-8 GUIDs") {
  auto a = sema::derived_rule_id("mail_read_without_signin");
  CHECK(a == sema::derived_rule_id("mail_read_without_signin"));
  CHECK(a != sema::derived_rule_id("mail_read_without_signin2"));
  CHECK(a.size() == 36);
  CHECK(a[14] == '8');
  CHECK((a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'));
}
