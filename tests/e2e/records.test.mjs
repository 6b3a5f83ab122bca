// Records CRUD and listing through the SDK's RecordService.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PUBLIC_RULES, serverForSuite, rejectsWith } from "./lib/server.mjs";

describe("records", () => {
  const server = serverForSuite();
  let pb;
  before(async () => {
    pb = await server.superuser();
    await pb.collections.create({
      name: "authors",
      listRule: "",
      viewRule: "",
      fields: [{ name: "name", type: "text", required: true, presentable: true }],
    });
    const authors = await pb.collections.getOne("authors");
    await pb.collections.create({
      name: "books",
      ...PUBLIC_RULES,
      fields: [
        { name: "title", type: "text", required: true, max: 200 },
        { name: "pages", type: "number", min: 1, onlyInt: true },
        { name: "inPrint", type: "bool" },
        { name: "contact", type: "email" },
        { name: "site", type: "url" },
        { name: "blurb", type: "editor" },
        { name: "published", type: "date" },
        { name: "genre", type: "select", values: ["sf", "crime", "poetry"], maxSelect: 1 },
        { name: "tags", type: "select", values: ["new", "classic", "signed"], maxSelect: 3 },
        { name: "meta", type: "json" },
        { name: "author", type: "relation", collectionId: authors.id, maxSelect: 1 },
        { name: "coauthors", type: "relation", collectionId: authors.id, maxSelect: 5 },
        { name: "secret", type: "text", hidden: true },
        { name: "created", type: "autodate", onCreate: true },
        { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
      ],
    });
  });

  it("creates a record with every field type and reads it back", async () => {
    const ann = await pb.collection("authors").create({ name: "Ann" });
    const bob = await pb.collection("authors").create({ name: "Bob" });
    const rec = await pb.collection("books").create({
      title: "Dune",
      pages: 412,
      inPrint: true,
      contact: "ed@example.com",
      site: "https://example.com/dune",
      blurb: "<p>spice</p>",
      published: "1965-08-01 00:00:00.000Z",
      genre: "sf",
      tags: ["classic", "signed"],
      meta: { isbn: "0441013597", editions: [1, 2] },
      author: ann.id,
      coauthors: [ann.id, bob.id],
      secret: "hidden value",
    });
    assert.match(rec.id, /^[a-z0-9]{15}$/);
    assert.equal(rec.collectionName, "books");
    assert.equal(rec.pages, 412);
    assert.equal(rec.inPrint, true);
    assert.equal(rec.published, "1965-08-01 00:00:00.000Z");
    assert.deepEqual(rec.tags, ["classic", "signed"]);
    assert.deepEqual(rec.meta, { isbn: "0441013597", editions: [1, 2] });
    assert.deepEqual(rec.coauthors, [ann.id, bob.id]);
    assert.equal(rec.secret, "hidden value", "superusers see hidden fields");
    const asGuest = await server.client().collection("books").getOne(rec.id);
    assert.equal(asGuest.secret, undefined, "hidden fields never appear to others");
    assert.equal(asGuest.title, "Dune");
    assert.ok(rec.created && rec.updated);

    const got = await pb.collection("books").getOne(rec.id, { expand: "author,coauthors" });
    assert.equal(got.expand.author.name, "Ann");
    assert.deepEqual(
      got.expand.coauthors.map((a) => a.name),
      ["Ann", "Bob"],
    );
  });

  it("expands relations on create and update responses", async () => {
    const dee = await pb.collection("authors").create({ name: "Dee" });
    const eve = await pb.collection("authors").create({ name: "Eve" });
    const rec = await pb.collection("books").create({ title: "Expanded", author: dee.id }, { expand: "author" });
    assert.equal(rec.expand.author.name, "Dee");
    const up = await pb.collection("books").update(rec.id, { author: eve.id }, { expand: "author", fields: "id,expand.author.name" });
    assert.deepEqual(up, { id: rec.id, expand: { author: { name: "Eve" } } });
  });

  it("updates partially with + and - modifiers", async () => {
    const rec = await pb.collection("books").create({ title: "Mods", pages: 10, tags: ["new"] });
    const up = await pb.collection("books").update(rec.id, { "pages+": 5, "tags+": "signed", title: "Mods 2" });
    assert.equal(up.pages, 15);
    assert.deepEqual(up.tags, ["new", "signed"]);
    assert.equal(up.title, "Mods 2");
    const down = await pb.collection("books").update(rec.id, { "pages-": 3, "tags-": ["new"] });
    assert.equal(down.pages, 12);
    assert.deepEqual(down.tags, ["signed"]);
  });

  it("accepts a custom id and rejects a malformed one", async () => {
    const rec = await pb.collection("books").create({ id: "customid1234567", title: "Custom" });
    assert.equal(rec.id, "customid1234567");
    const err = await rejectsWith(pb.collection("books").create({ id: "bad id!", title: "x" }), 400);
    assert.ok(err.response.data.id);
  });

  it("raises validation errors in PocketBase's shape", async () => {
    const err = await rejectsWith(
      pb.collection("books").create({ pages: -5, genre: "opera", contact: "not-an-email" }),
      400,
    );
    assert.equal(err.response.data.title.code, "validation_required");
    assert.ok(err.response.data.pages);
    assert.ok(err.response.data.genre);
    assert.ok(err.response.data.contact);
    assert.equal(typeof err.response.message, "string");
  });

  it("lists with filter, sort, pagination, skipTotal and fields", async () => {
    const seeded = [];
    for (let i = 1; i <= 25; i++) {
      seeded.push(await pb.collection("books").create({ title: `Vol ${String(i).padStart(2, "0")}`, pages: i * 10 }));
    }
    const page = await pb.collection("books").getList(2, 5, { filter: "title ~ 'Vol' && pages >= 50", sort: "-pages" });
    assert.equal(page.page, 2);
    assert.equal(page.perPage, 5);
    assert.equal(page.totalItems, 21);
    assert.equal(page.totalPages, 5);
    assert.deepEqual(
      page.items.map((r) => r.pages),
      [200, 190, 180, 170, 160],
    );

    const skip = await pb.collection("books").getList(1, 3, { filter: "title ~ 'Vol'", skipTotal: true });
    assert.equal(skip.totalItems, -1);
    assert.equal(skip.totalPages, -1);
    assert.equal(skip.items.length, 3);

    const slim = await pb.collection("books").getList(1, 2, { filter: "title ~ 'Vol'", fields: "id,title" });
    for (const r of slim.items) assert.deepEqual(Object.keys(r).sort(), ["id", "title"]);

    const full = await pb.collection("books").getFullList({ filter: "title ~ 'Vol'", sort: "title", batch: 7 });
    assert.equal(full.length, 25);
    assert.equal(full[0].title, "Vol 01");
    assert.equal(full[24].title, "Vol 25");

    const first = await pb.collection("books").getFirstListItem(pb.filter("pages = {:p}", { p: 130 }));
    assert.equal(first.title, "Vol 13");
    await rejectsWith(pb.collection("books").getFirstListItem("pages = 99999"), 404);
  });

  it("binds filter parameters safely", async () => {
    await pb.collection("books").create({ title: "O'Reilly \" quoted" });
    const hit = await pb.collection("books").getFirstListItem(pb.filter("title = {:t}", { t: "O'Reilly \" quoted" }));
    assert.equal(hit.title, "O'Reilly \" quoted");
    const none = await pb.collection("books").getList(1, 5, { filter: pb.filter("title = {:t}", { t: "' || 1=1 || '" }) });
    assert.equal(none.totalItems, 0);
  });

  it("rejects a hostile filter with 400", async () => {
    await rejectsWith(pb.collection("books").getList(1, 5, { filter: "title = 'x' ; DROP TABLE books" }), 400);
    await rejectsWith(pb.collection("books").getList(1, 5, { filter: "nosuch.field = 1" }), 400);
    const still = await pb.collection("books").getList(1, 1);
    assert.ok(still.totalItems > 0);
  });

  it("deletes a record and 404s afterwards", async () => {
    const rec = await pb.collection("books").create({ title: "Gone" });
    await pb.collection("books").delete(rec.id);
    await rejectsWith(pb.collection("books").getOne(rec.id), 404);
    await rejectsWith(pb.collection("books").delete(rec.id), 404);
  });

  it("expands back-relations", async () => {
    const carl = await pb.collection("authors").create({ name: "Carl" });
    await pb.collection("books").create({ title: "By Carl 1", author: carl.id });
    await pb.collection("books").create({ title: "By Carl 2", author: carl.id });
    const got = await pb.collection("authors").getOne(carl.id, { expand: "books_via_author" });
    assert.deepEqual(got.expand.books_via_author.map((b) => b.title).sort(), ["By Carl 1", "By Carl 2"]);
  });

  it("404s for unknown collections and records", async () => {
    await rejectsWith(pb.collection("nope").getList(1, 1), 404);
    await rejectsWith(pb.collection("books").getOne("aaaaaaaaaaaaaaa"), 404);
  });
});
