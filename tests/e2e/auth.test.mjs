// User auth through the SDK: auth methods, refresh, impersonation, and a
// password change by the owner that signs every other session out.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serverForSuite, rejectsWith } from "./lib/server.mjs";

describe("user auth", () => {
  const server = serverForSuite();
  let pb;
  let user;
  before(async () => {
    pb = await server.superuser();
    user = await pb.collection("users").create({
      email: "grace@example.com",
      password: "grace-password-1",
      passwordConfirm: "grace-password-1",
      name: "Grace",
    });
  });

  it("lists the auth methods", async () => {
    const methods = await server.client().collection("users").listAuthMethods();
    assert.equal(methods.password.enabled, true);
    assert.ok(methods.password.identityFields.includes("email"));
    assert.ok(Array.isArray(methods.oauth2.providers));
    assert.equal(typeof methods.otp.enabled, "boolean");
  });

  it("logs in, refreshes, and rejects a wrong password with 400", async () => {
    const client = server.client();
    const auth = await client.collection("users").authWithPassword("grace@example.com", "grace-password-1");
    assert.equal(auth.record.id, user.id);
    assert.equal(auth.record.email, "grace@example.com");
    const refreshed = await client.collection("users").authRefresh();
    assert.equal(refreshed.record.id, user.id);
    const err = await rejectsWith(server.client().collection("users").authWithPassword("grace@example.com", "nope-nope-1"), 400);
    assert.equal(err.response.message, "Failed to authenticate.");
  });

  it("impersonates a user as a superuser", async () => {
    const as = await pb.collection("users").impersonate(user.id, 600);
    assert.equal(as.authStore.record.id, user.id);
    const me = await as.collection("users").getOne(user.id);
    assert.equal(me.email, "grace@example.com");
    const guest = server.client();
    await rejectsWith(guest.collection("users").impersonate(user.id, 600), 401);
  });

  it("changes the password with oldPassword and revokes the old tokens", async () => {
    const a = server.client();
    const b = server.client();
    await a.collection("users").authWithPassword("grace@example.com", "grace-password-1");
    await b.collection("users").authWithPassword("grace@example.com", "grace-password-1");

    const err = await rejectsWith(
      a.collection("users").update(user.id, { password: "grace-password-2", passwordConfirm: "grace-password-2" }),
      400,
    );
    assert.ok(err.response.data.oldPassword, JSON.stringify(err.response));

    await a.collection("users").update(user.id, {
      oldPassword: "grace-password-1",
      password: "grace-password-2",
      passwordConfirm: "grace-password-2",
    });
    await rejectsWith(b.collection("users").authRefresh(), 401);
    await rejectsWith(server.client().collection("users").authWithPassword("grace@example.com", "grace-password-1"), 400);
    const fresh = await server.client().collection("users").authWithPassword("grace@example.com", "grace-password-2");
    assert.equal(fresh.record.id, user.id);
  });

  it("keeps users out of each other's records under the default rules", async () => {
    const other = await pb.collection("users").create({
      email: "hopper@example.com",
      password: "hopper-password-1",
      passwordConfirm: "hopper-password-1",
    });
    const client = server.client();
    await client.collection("users").authWithPassword("hopper@example.com", "hopper-password-1");
    await rejectsWith(client.collection("users").getOne(user.id), 404);
    const list = await client.collection("users").getFullList();
    assert.deepEqual(
      list.map((u) => u.id),
      [other.id],
    );
  });
});
