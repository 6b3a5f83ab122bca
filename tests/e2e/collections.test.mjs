// Collections management through the SDK's CollectionService.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serverForSuite, rejectsWith } from "./lib/server.mjs";

describe("collections", () => {
  const server = serverForSuite();
  let pb;
  before(async () => {
    pb = await server.superuser();
  });

  it("lists the system collections with filter and sort", async () => {
    const all = await pb.collections.getFullList({ sort: "name" });
    const names = all.map((c) => c.name);
    for (const n of ["_superusers", "users", "_mfas", "_otps", "_externalAuths", "_authOrigins"]) {
      assert.ok(names.includes(n), `missing ${n}`);
    }
    assert.deepEqual(names, [...names].sort());
    const auth = await pb.collections.getList(1, 50, { filter: "type = 'auth'" });
    assert.ok(auth.items.length >= 2);
    assert.ok(auth.items.every((c) => c.type === "auth"));
    const one = await pb.collections.getFirstListItem("name = 'users'");
    assert.equal(one.name, "users");
  });

  it("creates, views, updates and deletes a base collection", async () => {
    const created = await pb.collections.create({
      name: "notes",
      type: "base",
      listRule: "",
      viewRule: "",
      fields: [
        { name: "title", type: "text", required: true, max: 100 },
        { name: "stars", type: "number", min: 0, max: 5, onlyInt: true },
      ],
      indexes: ["CREATE UNIQUE INDEX idx_notes_title ON notes (title)"],
    });
    assert.equal(created.name, "notes");
    assert.equal(created.type, "base");
    assert.ok(created.fields.some((f) => f.name === "id" && f.primaryKey));
    const byName = await pb.collections.getOne("notes");
    assert.equal(byName.id, created.id);
    const byId = await pb.collections.getOne(created.id);
    assert.equal(byId.name, "notes");

    const fields = [...created.fields, { name: "body", type: "editor" }];
    const updated = await pb.collections.update("notes", { fields, listRule: null });
    assert.ok(updated.fields.some((f) => f.name === "body"));
    assert.equal(updated.listRule, null);

    await pb.collection("notes").create({ title: "one", body: "<p>x</p>" });
    await rejectsWith(pb.collection("notes").create({ title: "one" }), 400);

    await pb.collections.truncate("notes");
    const after = await pb.collection("notes").getList(1, 10);
    assert.equal(after.totalItems, 0);

    await pb.collections.delete("notes");
    await rejectsWith(pb.collections.getOne("notes"), 404);
  });

  it("renames and retypes fields on a populated collection", async () => {
    const c = await pb.collections.create({
      name: "items",
      fields: [
        { name: "label", type: "text" },
        { name: "qty", type: "text" },
      ],
    });
    await pb.collection("items").create({ label: "a", qty: "7" });
    const fields = c.fields.map((f) => {
      if (f.name === "label") return { ...f, name: "name" };
      if (f.name === "qty") return { id: f.id, name: "qty", type: "number" };
      return f;
    });
    await pb.collections.update("items", { fields });
    const [rec] = await pb.collection("items").getFullList();
    assert.equal(rec.name, "a");
    assert.equal(rec.qty, 7);
    assert.equal(rec.label, undefined);
  });

  it("imports collections", async () => {
    await pb.collections.import([
      { name: "imported_a", type: "base", fields: [{ name: "x", type: "text" }] },
      { name: "imported_b", type: "base", fields: [{ name: "y", type: "bool" }] },
    ]);
    const a = await pb.collections.getOne("imported_a");
    assert.ok(a.fields.some((f) => f.name === "x"));
    await pb.collections.getOne("imported_b");
  });

  it("rejects invalid collections with field errors", async () => {
    let err = await rejectsWith(pb.collections.create({ name: "bad name; drop", fields: [] }), 400);
    assert.ok(err.response.data.name, JSON.stringify(err.response));
    err = await rejectsWith(pb.collections.create({ name: "users", fields: [] }), 400);
    assert.ok(err.response.data.name);
    err = await rejectsWith(
      pb.collections.create({ name: "ruled", listRule: "nosuchfield = 1", fields: [{ name: "a", type: "text" }] }),
      400,
    );
    assert.ok(err.response.data.listRule);
  });

  it("requires a superuser", async () => {
    const guest = server.client();
    await rejectsWith(guest.collections.getFullList(), 401);
    await rejectsWith(guest.collections.create({ name: "x" }), 401);
  });
});
