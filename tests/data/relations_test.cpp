// Relation fields: value normalisation, missing targets, select counts, and
// what deleting a referenced record does (cascade, unset, or refuse).

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kMissingRel =
    R"({"code":"validation_missing_rel_records","message":"Failed to find all relation records with the provided ids."})";
const std::string kRequiredRefDelete =
    R"({"data":{},"message":"Failed to delete record. Make sure that the record is not part of a required relation reference.","status":400})";

class Relations : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    const auto& api = server_->api();
    const auto& tok = server_->token();
    auto authors = create_collection(api, tok, R"json({
      "name": "authors", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
      "deleteRule": "", "fields": [{"name": "name", "type": "text"}]})json");
    std::string aid = str_at(authors, "/id");
    auto rel = [&](const char* name, int max, bool cascade, bool required, int min = 0) {
      json::object f{{"name", name},        {"type", "relation"}, {"collectionId", aid},
                     {"maxSelect", max},    {"minSelect", min},   {"cascadeDelete", cascade},
                     {"required", required}};
      return f;
    };
    json::object books{{"name", "books"},  {"listRule", ""},   {"viewRule", ""},
                       {"createRule", ""}, {"updateRule", ""}, {"deleteRule", ""}};
    books["fields"] = json::array{
        json::object{{"name", "title"}, {"type", "text"}},
        rel("author", 1, true, false),     // single, cascade
        rel("coauthors", 5, true, false),  // multi, cascade
        rel("editors", 5, false, false),   // multi, unset on delete
        rel("reviewer", 1, false, false),  // single, unset on delete
        rel("limited", 2, false, false),   // maxSelect 2
        rel("pair", 3, false, false, 2),   // minSelect 2
    };
    auto b = create_collection(api, tok, json::serialize(books));
    std::string bid = str_at(b, "/id");

    json::object awards{{"name", "awards"}, {"listRule", ""},   {"viewRule", ""},
                        {"createRule", ""}, {"updateRule", ""}, {"deleteRule", ""}};
    awards["fields"] = json::array{rel("winner", 1, false, true)};  // required, no cascade
    create_collection(api, tok, json::serialize(awards));

    json::object chapters{{"name", "chapters"}, {"listRule", ""},   {"viewRule", ""},
                          {"createRule", ""},   {"updateRule", ""}, {"deleteRule", ""}};
    chapters["fields"] = json::array{json::object{{"name", "book"},
                                                  {"type", "relation"},
                                                  {"collectionId", bid},
                                                  {"maxSelect", 1},
                                                  {"cascadeDelete", true},
                                                  {"required", true}}};
    create_collection(api, tok, json::serialize(chapters));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }

  static std::string author(std::string_view name = "a") {
    json::object o{{"name", name}};
    return str_at(create_record(api(), "authors", json::serialize(o)), "/id");
  }
  static json::value book(const json::object& fields) {
    return create_record(api(), "books", json::serialize(fields));
  }
  static json::value get(std::string_view coll, std::string_view id) {
    auto r = api().get(records_path(coll, id));
    return r.status == 200 ? r.json : json::value(nullptr);
  }

  static SeededServer* server_;
};
SeededServer* Relations::server_ = nullptr;

TEST_F(Relations, ValuesNormalize) {
  auto a = author(), b = author(), c = author();
  struct Case {
    const char* name;
    json::object body;
    const char* field;
    json::value want;
  } cases[] = {
      {"single id", {{"author", a}}, "author", json::value(a)},
      {"single keeps the last of a list",
       {{"author", json::array{a, b}}},
       "author",
       json::value(b)},
      {"single empty", {{"author", ""}}, "author", json::value("")},
      {"multi from one id", {{"editors", a}}, "editors", json::array{a}},
      {"multi unique in order",
       {{"editors", json::array{c, a, c, b}}},
       "editors",
       json::array{c, a, b}},
      {"multi empty", {{"editors", json::array{}}}, "editors", json::array{}},
      {"min select satisfied", {{"pair", json::array{a, b}}}, "pair", json::array{a, b}},
  };
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.name);
    auto r = api().post(records_path("books"), json::serialize(cs.body));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(dump(at(r.json, std::string("/") + cs.field)), dump(cs.want));
  }
}

TEST_F(Relations, MissingTargetsAreRejected) {
  auto a = author();
  struct Case {
    const char* name;
    json::object body;
    const char* field;
  } cases[] = {
      {"single missing", {{"author", "missing00000000"}}, "author"},
      {"multi with one missing", {{"editors", json::array{a, "missing00000000"}}}, "editors"},
      {"single unset-on-delete missing", {{"reviewer", "zzzzzzzzzzzzzzz"}}, "reviewer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().post(records_path("books"), json::serialize(c.body));
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.text(), std::string(R"({"data":{")") + c.field + "\":" + kMissingRel +
                            R"(},"message":"Failed to create record.","status":400})");
  }
  // On update as well.
  auto bk = book({{"title", "x"}});
  auto u =
      api().patch(records_path("books", str_at(bk, "/id")), R"({"editors+":"missing00000000"})");
  ASSERT_EQ(u.status, 400) << u.body;
  EXPECT_EQ(dump(at(u.json, "/data/editors")), canon(kMissingRel));
}

TEST_F(Relations, SelectCounts) {
  auto a = author(), b = author(), c = author();
  struct Case {
    const char* name;
    json::object body;
    const char* data;
  } cases[] = {
      {"too many",
       {{"limited", json::array{a, b, c}}},
       R"({"limited":{"code":"validation_too_many_values","message":"Select no more than 2.","params":{"maxSelect":2}}})"},
      {"not enough",
       {{"pair", json::array{a}}},
       R"({"pair":{"code":"validation_not_enough_values","message":"Select at least 2.","params":{"minSelect":2}}})"},
  };
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.name);
    auto r = api().post(records_path("books"), json::serialize(cs.body));
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(dump(at(r.json, "/data")), canon(cs.data));
  }
}

TEST_F(Relations, ModifiersOnRelations) {
  auto a = author(), b = author(), c = author();
  auto bk = book({{"editors", json::array{a}}});
  auto id = str_at(bk, "/id");
  auto r = api().patch(records_path("books", id),
                       json::serialize(json::object{{"editors+", json::array{b, c}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(dump(at(r.json, "/editors")), dump(json::array{a, b, c}));
  // Same-length keys: either order gives [c, a] (prepending moves c to the front).
  r = api().patch(records_path("books", id),
                  json::serialize(json::object{{"editors-", b}, {"+editors", c}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(dump(at(r.json, "/editors")), dump(json::array{c, a}));
}

TEST_F(Relations, FilterByRelationPath) {
  auto ann = author("fp-ann"), bob = author("fp-bob"), cy = author("fp-cy");
  auto id_of = [](const json::value& v) { return str_at(v, "/id"); };
  auto b1 = id_of(book({{"title", "fp-1"}, {"author", ann}, {"coauthors", json::array{bob, cy}}}));
  auto b2 = id_of(book({{"title", "fp-2"}, {"author", bob}, {"coauthors", json::array{ann}}}));
  auto b3 = id_of(book({{"title", "fp-3"}, {"author", ann}}));
  auto query = [](std::string_view coll, std::string_view filter) {
    std::string q = records_path(coll) + "?perPage=100&filter=";
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : filter) {
      if (std::isalnum(c)) {
        q.push_back(static_cast<char>(c));
      } else {
        q += '%';
        q += kHex[c >> 4];
        q += kHex[c & 15];
      }
    }
    auto r = api().get(q);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    if (at(r.json, "/items").is_array())
      for (const auto& it : at(r.json, "/items").as_array()) out.push_back(str_at(it, "/id"));
    std::sort(out.begin(), out.end());
    return out;
  };
  auto Ids = [](std::vector<std::string> v) {  // compared as sets
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(query("books", "author.name = 'fp-ann'"), Ids({b1, b3}));
  EXPECT_EQ(query("books", "author.name = 'fp-bob' || author.name = 'fp-cy'"), Ids({b2}));
  EXPECT_EQ(query("books", "author.name ~ 'fp-' && title != 'fp-1'"), Ids({b2, b3}));
  // Multi-relation paths: `?=` is "any value", a plain operator "every value".
  EXPECT_EQ(query("books", "coauthors.name ?= 'fp-cy'"), Ids({b1}));
  EXPECT_EQ(query("books", "coauthors.name ?= 'fp-ann' && author.name = 'fp-bob'"), Ids({b2}));
  EXPECT_EQ(query("books", "title ~ 'fp-' && coauthors.name = 'fp-ann'"), Ids({b2}));
  // A back-relation from the referenced side.
  EXPECT_EQ(query("authors", "books_via_author.title ?= 'fp-3'"), Ids({ann}));
  EXPECT_EQ(query("authors", "name ~ 'fp-' && books_via_coauthors.title ?= 'fp-1'"),
            Ids({bob, cy}));
}

TEST_F(Relations, CascadeDeleteRemovesReferencingRecords) {
  auto a = author();
  auto bk = book({{"title", "cascade"}, {"author", a}});
  auto bid = str_at(bk, "/id");
  auto ch = create_record(api(), "chapters", json::serialize(json::object{{"book", bid}}));
  auto chid = str_at(ch, "/id");

  auto d = api().del(records_path("authors", a));
  ASSERT_EQ(d.status, 204) << d.body;
  EXPECT_TRUE(get("authors", a).is_null());
  EXPECT_TRUE(get("books", bid).is_null()) << "author has cascadeDelete";
  EXPECT_TRUE(get("chapters", chid).is_null()) << "the cascade continues through books";
}

TEST_F(Relations, MultiCascadeDeletesOnlyWhenNoIdsRemain) {
  // PocketBase (core/record_query... deleteRefRecords): the id is removed and the
  // referencing record is deleted only when no ids are left.
  auto a = author(), c = author();
  auto bk = book({{"title", "co"}, {"coauthors", json::array{a, c}}});
  auto bid = str_at(bk, "/id");
  ASSERT_EQ(api().del(records_path("authors", a)).status, 204);
  auto after = get("books", bid);
  ASSERT_FALSE(after.is_null()) << "another coauthor is still referenced";
  EXPECT_EQ(dump(at(after, "/coauthors")), dump(json::array{c}));
  ASSERT_EQ(api().del(records_path("authors", c)).status, 204);
  EXPECT_TRUE(get("books", bid).is_null()) << "no coauthors left: cascade";
}

TEST_F(Relations, NonCascadeReferencesAreUnset) {
  auto a = author(), c = author();
  auto bk = book({{"title", "keep"},
                  {"author", c},
                  {"editors", json::array{a, c}},
                  {"reviewer", a},
                  {"limited", json::array{a}}});
  auto bid = str_at(bk, "/id");
  auto d = api().del(records_path("authors", a));
  ASSERT_EQ(d.status, 204) << d.body;
  auto after = get("books", bid);
  ASSERT_FALSE(after.is_null()) << "the book does not depend on a by cascade";
  EXPECT_EQ(dump(at(after, "/editors")), dump(json::array{c}));
  EXPECT_EQ(str_at(after, "/reviewer"), "");
  EXPECT_EQ(dump(at(after, "/limited")), "[]");
  EXPECT_EQ(str_at(after, "/author"), c);
  EXPECT_EQ(str_at(after, "/title"), "keep");
}

TEST_F(Relations, RequiredReferenceBlocksTheDelete) {
  auto a = author();
  auto aw = create_record(api(), "awards", json::serialize(json::object{{"winner", a}}));
  auto d = api().del(records_path("authors", a));
  ASSERT_EQ(d.status, 400) << d.body;
  EXPECT_EQ(d.text(), kRequiredRefDelete);
  EXPECT_FALSE(get("authors", a).is_null()) << "nothing was deleted";
  EXPECT_EQ(str_at(get("awards", str_at(aw, "/id")), "/winner"), a);

  // Once the reference is gone the delete goes through.
  ASSERT_EQ(api().del(records_path("awards", str_at(aw, "/id"))).status, 204);
  EXPECT_EQ(api().del(records_path("authors", a)).status, 204);
}

TEST_F(Relations, RequiredCascadeReferenceIsDeleted) {
  auto a = author();
  auto bk = book({{"title", "chain"}, {"author", a}});
  auto bid = str_at(bk, "/id");
  auto ch = create_record(api(), "chapters", json::serialize(json::object{{"book", bid}}));
  // chapters.book is required *and* cascades: deleting the book deletes the chapter.
  ASSERT_EQ(api().del(records_path("books", bid)).status, 204);
  EXPECT_TRUE(get("chapters", str_at(ch, "/id")).is_null());
  EXPECT_FALSE(get("authors", a).is_null()) << "deletes do not cascade upwards";
}

TEST_F(Relations, ReferencedCollectionCannotBeDeleted) {
  auto r = api().del("/api/collections/authors", server_->token());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(api().get("/api/collections/authors", server_->token()).status, 200);
}

TEST_F(Relations, ExpandNestedPathsListsAndView) {
  auto a1 = author("ann");
  auto a2 = author("bob");
  auto b = book({{"title", "t1"}, {"author", a1}, {"coauthors", json::array{a1, a2}}});
  auto bid = str_at(b, "/id");
  // Single and multi relations on one record.
  auto r = api().get(records_path("books", bid) + "?expand=author,coauthors");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/expand/author/name"), "ann");
  EXPECT_EQ(str_at(r.json, "/expand/coauthors/1/name"), "bob");
  EXPECT_EQ(str_at(r.json, "/expand/author/collectionName"), "authors");
  // Keys stay sorted with "expand" in its place.
  auto pos_created = r.body.find("\"collectionName\"");
  auto pos_expand = r.body.find("\"expand\"");
  auto pos_id = r.body.find("\"id\"");
  EXPECT_LT(pos_created, pos_expand);
  EXPECT_LT(pos_expand, pos_id);
  // Nested: chapter -> book -> author, from a list.
  create_record(api(), "chapters", json::serialize(json::object{{"book", bid}}));
  auto list =
      api().get(std::string("/api/collections/chapters/records?expand=book.author&filter=") +
                "book%3D'" + bid + "'");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(str_at(list.json, "/items/0/expand/book/expand/author/name"), "ann");
  // Paths that are not relations are ignored; no expand key appears.
  auto plain = api().get(records_path("books", bid) + "?expand=title,nope");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body.find("\"expand\""), std::string::npos);
  // fields keeps expand with expand.*.
  auto picked = api().get(records_path("books", bid) + "?expand=author&fields=id,expand.author");
  ASSERT_EQ(picked.status, 200);
  EXPECT_EQ(str_at(picked.json, "/expand/author/name"), "ann");
  EXPECT_EQ(picked.body.find("\"title\""), std::string::npos);
  // Back-relation: the chapters pointing at this book.
  auto back = api().get(records_path("books", bid) + "?expand=chapters_via_book.book.author");
  ASSERT_EQ(back.status, 200) << back.body;
  ASSERT_TRUE(at(back.json, "/expand/chapters_via_book").is_array());
  EXPECT_EQ(at(back.json, "/expand/chapters_via_book").as_array().size(), 1U);
  EXPECT_EQ(str_at(back.json, "/expand/chapters_via_book/0/expand/book/expand/author/name"), "ann");
  // Too deep is a 400.
  auto deep = api().get(records_path("books", bid) + "?expand=a.b.c.d.e.f.g");
  EXPECT_EQ(deep.status, 400);
}

}  // namespace
}  // namespace plinth::test::data
