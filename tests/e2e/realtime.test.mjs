// Realtime through the SDK's RealtimeService: subscribe("*") and subscribe(id),
// options (fields, filter), list rules per auth, unsubscribe.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "./lib/server.mjs";

// Resolves with the first `count` events a subscription receives.
function collect(count) {
  const events = [];
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  return {
    events,
    finished,
    callback: (e) => {
      events.push(e);
      if (events.length === count) done(events);
    },
  };
}

function within(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("timed out waiting for " + what)), ms)),
  ]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("realtime", () => {
  const server = new Server();
  let admin;
  before(async () => {
    await server.start();
    admin = await server.superuser();
    await admin.collections.create({
      name: "notes",
      listRule: "",
      viewRule: "",
      createRule: "",
      updateRule: "",
      deleteRule: "",
      fields: [
        { name: "title", type: "text" },
        { name: "secret", type: "text", hidden: true },
      ],
    });
    await admin.collections.create({
      name: "private",
      listRule: "owner = @request.auth.id",
      viewRule: "owner = @request.auth.id",
      fields: [
        { name: "note", type: "text" },
        { name: "owner", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1 },
      ],
    });
  });
  after(() => server.stop());

  it("delivers create, update and delete to a wildcard subscription", async () => {
    const pb = server.client();
    const got = collect(3);
    const unsubscribe = await pb.collection("notes").subscribe("*", got.callback);
    const rec = await admin.collection("notes").create({ title: "one", secret: "s" });
    await admin.collection("notes").update(rec.id, { title: "two" });
    await admin.collection("notes").delete(rec.id);
    const events = await within(got.finished, 5000, "3 events");
    assert.deepEqual(
      events.map((e) => [e.action, e.record.id, e.record.title]),
      [
        ["create", rec.id, "one"],
        ["update", rec.id, "two"],
        ["delete", rec.id, "two"],
      ],
    );
    assert.equal(events[0].record.secret, undefined, "hidden fields stay hidden from guests");
    await unsubscribe();
    assert.equal(pb.realtime.isConnected, false);
  });

  it("record topics and options", async () => {
    const pb = server.client();
    const target = await admin.collection("notes").create({ title: "watched" });
    const byId = collect(1);
    const filtered = collect(1);
    await pb.collection("notes").subscribe(target.id, byId.callback);
    await pb.collection("notes").subscribe("*", filtered.callback, {
      filter: "title ~ 'keep'",
      fields: "id,title",
    });
    await admin.collection("notes").create({ title: "drop me" });
    await admin.collection("notes").create({ title: "keep me" });
    await admin.collection("notes").update(target.id, { title: "watched 2" });
    const [f] = await within(filtered.finished, 5000, "filtered event");
    assert.deepEqual(Object.keys(f.record).sort(), ["id", "title"]);
    assert.equal(f.record.title, "keep me");
    const [r] = await within(byId.finished, 5000, "record event");
    assert.equal(r.record.title, "watched 2");
    await pb.realtime.unsubscribe();
  });

  it("list rules decide per subscriber", async () => {
    const users = [];
    for (const name of ["ann", "bob"]) {
      const email = `${name}-rt@example.com`;
      const rec = await admin
        .collection("users")
        .create({ email, password: "secret-pass-1", passwordConfirm: "secret-pass-1" });
      const pb = server.client();
      await pb.collection("users").authWithPassword(email, "secret-pass-1");
      users.push({ rec, pb, got: [] });
    }
    for (const u of users) await u.pb.collection("private").subscribe("*", (e) => u.got.push(e));
    await admin.collection("private").create({ note: "ann only", owner: users[0].rec.id });
    await admin.collection("private").create({ note: "bob only", owner: users[1].rec.id });
    for (let i = 0; i < 100 && users.some((u) => u.got.length === 0); i++) await sleep(50);
    await sleep(200); // room for a wrongly delivered event to show up
    assert.deepEqual(users[0].got.map((e) => e.record.note), ["ann only"]);
    assert.deepEqual(users[1].got.map((e) => e.record.note), ["bob only"]);
    for (const u of users) await u.pb.realtime.unsubscribe();
  });

  it("binds the auth of the next subscription request to a live connection", async () => {
    const email = "cy-rt@example.com";
    const cy = await admin.collection("users").create({ email, password: "secret-pass-1", passwordConfirm: "secret-pass-1" });
    const pb = server.client();
    const got = [];
    await pb.collection("private").subscribe("*", (e) => got.push(e));
    await admin.collection("private").create({ note: "while a guest", owner: cy.id });
    await sleep(300);
    assert.equal(got.length, 0, "a guest sees no private record");
    const clientId = pb.realtime.clientId;

    // Signing in and subscribing to one more topic sends the subscriptions
    // again, now with the token: the same connection becomes the user's.
    await pb.collection("users").authWithPassword(email, "secret-pass-1");
    await pb.collection("private").subscribe("*", () => {}, { fields: "id" });
    assert.equal(pb.realtime.clientId, clientId, "same connection");
    await admin.collection("private").create({ note: "now signed in", owner: cy.id });
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(50);
    assert.deepEqual(got.map((e) => e.record.note), ["now signed in"]);
    await pb.realtime.unsubscribe();
  });
});
