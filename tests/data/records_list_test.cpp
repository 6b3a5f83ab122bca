// Listing records: paging, perPage clamping, sort, skipTotal and fields.

#include <algorithm>
#include <set>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

constexpr int kRecords = 35;

class RecordsList : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    create_collection(server_->api(), server_->token(), R"json({
      "name": "items",
      "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
      "fields": [
        {"name": "title", "type": "text"},
        {"name": "rank", "type": "number"},
        {"name": "grp", "type": "select", "values": ["x", "y", "z"], "maxSelect": 1}
      ]
    })json");
    // Inserted in an order that differs from rank, so that natural order != rank order.
    for (int i = 0; i < kRecords; ++i) {
      int rank = (i * 8) % kRecords;  // a permutation of 0..34 (gcd(8, 35) = 1)
      json::object body{{"title", "t" + std::to_string(rank)},
                        {"rank", rank},
                        {"grp", std::string(1, static_cast<char>('x' + rank % 3))}};
      auto r = create_record(server_->api(), "items", json::serialize(body));
      natural_.push_back(str_at(r, "/id"));
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    natural_.clear();
  }
  static Reply list(const std::string& query) {
    return server_->api().get(records_path("items") + (query.empty() ? "" : "?" + query));
  }
  static std::vector<std::string> ids(const Reply& r) {
    std::vector<std::string> out;
    for (const auto& it : at(r.json, "/items").as_array()) out.push_back(str_at(it, "/id"));
    return out;
  }
  static std::vector<std::int64_t> ranks(const Reply& r) {
    std::vector<std::int64_t> out;
    for (const auto& it : at(r.json, "/items").as_array()) out.push_back(int_at(it, "/rank"));
    return out;
  }

  static SeededServer* server_;
  static std::vector<std::string> natural_;  // ids in insertion order
};
SeededServer* RecordsList::server_ = nullptr;
std::vector<std::string> RecordsList::natural_;

TEST_F(RecordsList, DefaultsAndEnvelopeOrder) {
  auto r = list("");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(keys_of(r.json),
            (std::vector<std::string>{"items", "page", "perPage", "totalItems", "totalPages"}));
  EXPECT_EQ(int_at(r.json, "/page"), 1);
  EXPECT_EQ(int_at(r.json, "/perPage"), 30);
  EXPECT_EQ(int_at(r.json, "/totalItems"), kRecords);
  EXPECT_EQ(int_at(r.json, "/totalPages"), 2);
  EXPECT_EQ(at(r.json, "/items").as_array().size(), 30u);
  // No implicit ORDER BY: natural (rowid) order.
  std::vector<std::string> first30(natural_.begin(), natural_.begin() + 30);
  EXPECT_EQ(ids(r), first30);
}

TEST_F(RecordsList, PageAndPerPage) {
  struct Case {
    const char* name;
    const char* query;
    std::int64_t page, per_page;
    std::size_t items;
    std::int64_t total_pages;
  } cases[] = {
      {"second page of ten", "perPage=10&page=2", 2, 10, 10, 4},
      {"last partial page", "perPage=10&page=4", 4, 10, 5, 4},
      {"page past the end", "perPage=10&page=99", 99, 10, 0, 4},
      {"perPage zero means 30", "perPage=0", 1, 30, 30, 2},
      {"negative perPage means 30", "perPage=-5", 1, 30, 30, 2},
      {"perPage over 1000 is clamped", "perPage=5000", 1, 1000, kRecords, 1},
      {"perPage 1000 honoured", "perPage=1000", 1, 1000, kRecords, 1},
      {"perPage one", "perPage=1&page=35", 35, 1, 1, 35},
      {"page zero means 1", "page=0", 1, 30, 30, 2},
      {"negative page means 1", "page=-3", 1, 30, 30, 2},
      {"empty values use defaults", "page=&perPage=", 1, 30, 30, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = list(c.query);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(int_at(r.json, "/page"), c.page);
    EXPECT_EQ(int_at(r.json, "/perPage"), c.per_page);
    EXPECT_EQ(at(r.json, "/items").as_array().size(), c.items);
    EXPECT_EQ(int_at(r.json, "/totalItems"), kRecords);
    EXPECT_EQ(int_at(r.json, "/totalPages"), c.total_pages);
  }
  // Pages partition the natural order.
  std::vector<std::string> all;
  for (int p = 1; p <= 4; ++p) {
    auto page = ids(list("perPage=10&page=" + std::to_string(p)));
    all.insert(all.end(), page.begin(), page.end());
  }
  EXPECT_EQ(all, natural_);
}

TEST_F(RecordsList, Sort) {
  std::vector<std::int64_t> asc(kRecords);
  for (int i = 0; i < kRecords; ++i) asc[static_cast<std::size_t>(i)] = i;
  std::vector<std::int64_t> desc(asc.rbegin(), asc.rend());
  // grp ascending, then rank descending.
  std::vector<std::int64_t> by_group(asc);
  std::sort(by_group.begin(), by_group.end(), [](std::int64_t a, std::int64_t b) {
    if (a % 3 != b % 3) return a % 3 < b % 3;
    return a > b;
  });
  struct Case {
    const char* name;
    const char* query;
    std::vector<std::int64_t> want;
  } cases[] = {
      {"ascending", "sort=rank&perPage=100", asc},
      {"explicit plus", "sort=%2Brank&perPage=100", asc},
      {"descending", "sort=-rank&perPage=100", desc},
      {"two terms", "sort=grp,-rank&perPage=100", by_group},
      {"spaces around terms", "sort=grp%2C%20-rank&perPage=100", by_group},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = list(c.query);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(ranks(r), c.want);
  }

  auto rowid = list("sort=@rowid&perPage=100");
  ASSERT_EQ(rowid.status, 200) << rowid.body;
  EXPECT_EQ(ids(rowid), natural_);
  auto rowid_desc = list("sort=-@rowid&perPage=100");
  ASSERT_EQ(rowid_desc.status, 200) << rowid_desc.body;
  EXPECT_EQ(ids(rowid_desc), std::vector<std::string>(natural_.rbegin(), natural_.rend()));

  auto random = list("sort=@random&perPage=100");
  ASSERT_EQ(random.status, 200) << random.body;
  auto got = ids(random);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()),
            std::set<std::string>(natural_.begin(), natural_.end()));

  auto page = list("sort=-rank&perPage=5&page=2");
  EXPECT_EQ(ranks(page), (std::vector<std::int64_t>{29, 28, 27, 26, 25}));
}

TEST_F(RecordsList, SortByUnknownFieldIs400) {
  for (const char* q : {"sort=nope", "sort=-nope", "sort=rank,nope", "sort=@nope"}) {
    SCOPED_TRACE(q);
    auto r = list(q);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(dump(at(r.json, "/data")), "{}");
  }
}

TEST_F(RecordsList, SkipTotal) {
  struct Case {
    const char* query;
    int status;
    bool skipped;
  } cases[] = {
      {"skipTotal=1", 200, true},  {"skipTotal=true", 200, true},
      {"skipTotal=t", 200, true},  {"skipTotal=TRUE", 200, true},
      {"skipTotal=0", 200, false}, {"skipTotal=false", 200, false},
      {"skipTotal=", 200, false},  {"skipTotal=maybe", 400, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    auto r = list(std::string(c.query) + "&perPage=10");
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status != 200) continue;
    EXPECT_EQ(at(r.json, "/items").as_array().size(), 10u);
    EXPECT_EQ(int_at(r.json, "/totalItems"), c.skipped ? -1 : kRecords);
    EXPECT_EQ(int_at(r.json, "/totalPages"), c.skipped ? -1 : 4);
  }
}

double metric(const Api& api, const std::string& name) {
  auto m = api.get("/metrics");
  auto pos = m.body.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(m.body.substr(pos + name.size() + 2));
}

TEST_F(RecordsList, TotalsFollowEveryWriteWhileCountsAreRemembered) {
  // Readers remember a list's total while the database is unchanged; any write, through the
  // API or by another process on the same file, must show in the next total.
  const auto& api = server_->api();
  create_collection(api, server_->token(), R"json({
    "name": "tally", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
    "deleteRule": "", "fields": [{"name": "n", "type": "number"}]})json");
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(str_at(create_record(api, "tally", R"({"n":)" + std::to_string(i) + "}"), "/id"));
  auto total = [&] {
    auto r = api.get(records_path("tally") + "?filter=n%3E%3D5&perPage=2");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(at(r.json, "/items").as_array().size(), 2u);
    return int_at(r.json, "/totalItems");
  };
  double counted = metric(api, "plinth_store_list_counts_total");
  double cached = metric(api, "plinth_store_list_counts_cached_total");
  ASSERT_GE(counted, 0) << "plinth_store_list_counts_total is exposed";
  ASSERT_GE(cached, 0) << "plinth_store_list_counts_cached_total is exposed";
  for (int i = 0; i < 6; ++i) EXPECT_EQ(total(), 5);
  EXPECT_EQ(metric(api, "plinth_store_list_counts_total") - counted, 6);
  EXPECT_GE(metric(api, "plinth_store_list_counts_cached_total") - cached, 1)
      << "repeated lists of an unchanged table are answered from the count cache";

  create_record(api, "tally", R"({"n":7})");
  EXPECT_EQ(total(), 6) << "after a create";
  EXPECT_EQ(total(), 6);
  ASSERT_EQ(api.patch(records_path("tally", ids[1]), R"({"n":9})").status, 200);
  EXPECT_EQ(total(), 7) << "after an update";
  ASSERT_EQ(api.del(records_path("tally", ids[9])).status, 204);
  EXPECT_EQ(total(), 6) << "after a delete";
  sqlite(server_->db_path(), "PRAGMA busy_timeout = 5000; UPDATE tally SET n = 100 WHERE n < 5");
  EXPECT_EQ(total(), 10) << "after another process wrote to data.db";
  EXPECT_EQ(total(), 10);
  // Past the last page: no items, the same total.
  auto past = api.get(records_path("tally") + "?filter=n%3E%3D5&perPage=2&page=9");
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_TRUE(at(past.json, "/items").as_array().empty());
  EXPECT_EQ(int_at(past.json, "/totalItems"), 10);
  EXPECT_EQ(int_at(past.json, "/totalPages"), 5);
}

TEST_F(RecordsList, FieldsKeepsOnlyListedKeys) {
  struct Case {
    const char* name;
    const char* fields;
    std::vector<std::string> keys;
  } cases[] = {
      {"two fields", "id,title", {"id", "title"}},
      {"order of the list does not matter", "title,id", {"id", "title"}},
      {"unknown names are skipped", "id,nope", {"id"}},
      {"spaces trimmed", "id,%20rank", {"id", "rank"}},
      {"star keeps all", "*", {"collectionId", "collectionName", "grp", "id", "rank", "title"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = list(std::string("perPage=3&fields=") + c.fields);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& it : at(r.json, "/items").as_array()) EXPECT_EQ(keys_of(it), c.keys);
    EXPECT_EQ(int_at(r.json, "/totalItems"), kRecords) << "fields applies to items only";
    auto view = server_->api().get(records_path("items", natural_[0]) + "?fields=" + c.fields);
    ASSERT_EQ(view.status, 200) << view.body;
    EXPECT_EQ(keys_of(view.json), c.keys);
  }
}

TEST_F(RecordsList, BadQueryParamsAre400WithTheirName) {
  // PocketBase answers any unparsable list parameter with its generic 400; Plinth
  // keeps the status and empty data but names the parameter (docs/compatibility.md).
  struct Case {
    const char* query;
    const char* message;
  } cases[] = {
      {"page=x", "Invalid \"page\" query parameter."},
      {"perPage=abc", "Invalid \"perPage\" query parameter."},
      {"sort=nope",
       "Invalid filter or sort: invalid sort field \"nope\" - unknown field \"nope\" (at position "
       "0)."},
      {"skipTotal=maybe", "Invalid \"skipTotal\" query parameter."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    auto r = list(c.query);
    EXPECT_EQ(r.status, 400);
    std::string message;
    for (const char* p = c.message; *p; ++p) {
      if (*p == '"') message += '\\';
      message += *p;
    }
    EXPECT_EQ(r.text(), std::string(R"({"data":{},"message":")") + message + R"(","status":400})");
  }
}

// Percent-encodes a filter for the query string.
std::string enc(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TEST_F(RecordsList, FilterOperators) {
  // natural_[i] holds rank (i * 8) % 35, title "t<rank>" and grp 'x' + rank % 3.
  std::vector<std::string> by_rank(kRecords);
  for (int i = 0; i < kRecords; ++i)
    by_rank[static_cast<std::size_t>((i * 8) % kRecords)] = natural_[static_cast<std::size_t>(i)];
  auto ids_of = [&](std::vector<int> ranks) {
    std::vector<std::string> out;
    for (int r : ranks) out.push_back(by_rank[static_cast<std::size_t>(r)]);
    return out;
  };
  struct Case {
    const char* filter;
    std::vector<int> ranks;  // in ascending rank order
  } cases[] = {
      {"rank = 7", {7}},
      {"title = 't12'", {12}},
      {"title != 't0' && rank < 3", {1, 2}},
      {"title ~ 't3'", {3, 30, 31, 32, 33, 34}},
      {"title !~ '1' && rank <= 5", {0, 2, 3, 4, 5}},
      {"rank >= 33 || rank = 0", {0, 33, 34}},
      {"grp = 'y' && rank > 25", {28, 31, 34}},
      {"(rank = 1 || rank = 2) && grp = 'z'", {2}},
      {"rank = 1 || rank = 2 && grp = 'z'", {1, 2}},
      {"title = 'nothing'", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filter);
    auto r = list("perPage=100&sort=rank&filter=" + enc(c.filter));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(ids(r), ids_of(c.ranks));
    EXPECT_EQ(int_at(r.json, "/totalItems"), static_cast<std::int64_t>(c.ranks.size()));
  }
  // The filter applies before paging.
  auto page = list("perPage=2&page=2&sort=-rank&filter=" + enc("grp = 'x'"));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(ranks(page), (std::vector<std::int64_t>{27, 24}));
  EXPECT_EQ(int_at(page.json, "/totalItems"), 12);
  EXPECT_EQ(int_at(page.json, "/totalPages"), 6);
}

TEST_F(RecordsList, InvalidFilterIs400) {
  struct Case {
    const char* filter;
    const char* reason;
  } cases[] = {
      {"nope = 1", R"(unknown field \"nope\" (at position 0))"},
      {"rank = ", "expected right operand (identifier, function, text or number) (at position 7)"},
      {"rank == 1", R"(invalid sign operator \"==\" (at position 5))"},
      {"(rank = 1", "missing closing ')' (at position 0)"},
      {"rank = 'x' &&", "incomplete filter expression (at position 13)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filter);
    auto r = list("filter=" + enc(c.filter));
    EXPECT_EQ(r.text(), std::string(R"({"data":{},"message":"Invalid filter or sort: )") +
                            c.reason + R"(.","status":400})");
  }
}

TEST_F(RecordsList, RequestAndCollectionFiltersAreSuperuserOnly) {
  struct Case {
    const char* filter;
    const char* message;
  } cases[] = {
      {"@request.auth.id = ''", "Only superusers can filter by @request."},
      {"rank > 1 && @request.query.x = ''", "Only superusers can filter by @request."},
      {"@collection.items.rank > 1", "Only superusers can filter by @collection."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.filter);
    auto r = list("filter=" + enc(c.filter));
    EXPECT_EQ(r.text(),
              std::string(R"({"data":{},"message":")") + c.message + R"(","status":403})");
  }
  auto sorted = list("sort=" + enc("@request.auth.id"));
  EXPECT_EQ(sorted.status, 403) << sorted.body;
  // A superuser may use them.
  auto su = server_->api().get(
      records_path("items") + "?perPage=1&filter=" + enc("@request.auth.id != '' && rank < 5"),
      server_->token());
  ASSERT_EQ(su.status, 200) << su.body;
  EXPECT_EQ(int_at(su.json, "/totalItems"), 5);
}

}  // namespace
}  // namespace plinth::test::data
