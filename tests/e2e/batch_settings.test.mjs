// Batch requests, settings, health, and auth with the SDK's auth store.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PUBLIC_RULES, serverForSuite, SUPERUSER, rejectsWith } from "./lib/server.mjs";

describe("batch, settings, health and auth", () => {
  const server = serverForSuite();
  let pb;
  before(async () => {
    pb = await server.superuser();
    await pb.collections.create({
      name: "tasks",
      ...PUBLIC_RULES,
      fields: [
        { name: "title", type: "text", required: true },
        { name: "done", type: "bool" },
      ],
      indexes: ["CREATE UNIQUE INDEX idx_tasks_title ON tasks (title)"],
    });
    await pb.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
  });

  it("reports health", async () => {
    const h = await server.client().health.check();
    assert.equal(h.code, 200);
    assert.equal(typeof h.message, "string");
  });

  it("runs a batch of create, update, upsert and delete in one transaction", async () => {
    const keep = await pb.collection("tasks").create({ title: "keep" });
    const drop = await pb.collection("tasks").create({ title: "drop" });
    const batch = pb.createBatch();
    batch.collection("tasks").create({ title: "b1" });
    batch.collection("tasks").update(keep.id, { done: true });
    batch.collection("tasks").upsert({ id: "upsertid0000001", title: "b2" });
    batch.collection("tasks").delete(drop.id);
    const results = await batch.send();
    assert.equal(results.length, 4);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 204],
    );
    assert.equal(results[0].body.title, "b1");
    assert.equal(results[1].body.done, true);
    assert.equal(results[2].body.id, "upsertid0000001");
    await rejectsWith(pb.collection("tasks").getOne(drop.id), 404);
  });

  it("rolls back a whole batch when one request fails", async () => {
    const before = await pb.collection("tasks").getList(1, 1);
    const batch = pb.createBatch();
    batch.collection("tasks").create({ title: "rolled-back-1" });
    batch.collection("tasks").create({ title: "keep" }); // unique index violation
    const err = await rejectsWith(batch.send(), 400);
    assert.ok(err.response.data.requests, JSON.stringify(err.response));
    const after = await pb.collection("tasks").getList(1, 1);
    assert.equal(after.totalItems, before.totalItems);
    const none = await pb.collection("tasks").getList(1, 1, { filter: "title = 'rolled-back-1'" });
    assert.equal(none.totalItems, 0);
  });

  it("reads and updates settings with secrets masked", async () => {
    const s = await pb.settings.getAll();
    assert.ok(s.meta && typeof s.meta.appName === "string");
    assert.ok(s.batch);
    const up = await pb.settings.update({
      meta: { appName: "E2E App" },
      smtp: { enabled: false, host: "smtp.example.com", port: 587, username: "u", password: "smtp-secret" },
    });
    assert.equal(up.meta.appName, "E2E App");
    const again = await pb.settings.getAll();
    assert.equal(again.meta.appName, "E2E App");
    assert.notEqual(again.smtp.password, "smtp-secret");
    await rejectsWith(server.client().settings.getAll(), 401);
  });

  it("authenticates a superuser and refreshes the token", async () => {
    const client = server.client();
    const auth = await client.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    assert.ok(client.authStore.isValid);
    assert.ok(client.authStore.isSuperuser);
    assert.equal(auth.record.email, SUPERUSER.email);
    assert.equal(auth.record.password, undefined);
    assert.equal(auth.record.tokenKey, undefined);
    const refreshed = await client.collection("_superusers").authRefresh();
    assert.ok(refreshed.token);
    assert.equal(refreshed.record.id, auth.record.id);
    client.authStore.clear();
    await rejectsWith(client.collection("_superusers").authWithPassword(SUPERUSER.email, "wrong-password"), 400);
  });

  it("authenticates a user of the users collection", async () => {
    const user = await pb.collection("users").create({
      email: "ada@example.com",
      password: "ada-password-1",
      passwordConfirm: "ada-password-1",
      name: "Ada",
    });
    assert.equal(user.email, "ada@example.com");
    const client = server.client();
    const auth = await client.collection("users").authWithPassword("ada@example.com", "ada-password-1");
    assert.equal(auth.record.id, user.id);
    assert.ok(client.authStore.isValid);
    assert.equal(client.authStore.isSuperuser, false);
    const refreshed = await client.collection("users").authRefresh();
    assert.equal(refreshed.record.id, user.id);
    await rejectsWith(client.collections.getFullList(), 403);
  });

  it("turns a garbage token into a guest and a protected call into 401", async () => {
    const client = server.client();
    client.authStore.save("not.a.token", null);
    await rejectsWith(client.collection("_superusers").authRefresh(), 401);
    await rejectsWith(client.settings.getAll(), 401);
  });
});
