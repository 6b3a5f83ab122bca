// Mail-based account flows through the SDK's RecordService: verification,
// password reset, email change, OTP, and the settings test email, with SMTP
// pointed at a local sink whose mail the tests follow.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server, rejectsWith } from "./lib/server.mjs";
import { SmtpSink, tokenAfter } from "./lib/smtp_sink.mjs";

describe("mail and account flows", () => {
  const server = new Server(["--mail-retry-base", "200ms", "--mail-retry-max", "1s"]);
  const sink = new SmtpSink();
  let pb;
  const users = () => server.client().collection("users");
  const newUser = (email, password = "initial-pass-1") =>
    pb.collection("users").create({ email, password, passwordConfirm: password });

  before(async () => {
    await sink.start();
    await server.start();
    pb = await server.superuser();
    await pb.settings.update({
      smtp: { enabled: true, host: "127.0.0.1", port: sink.port, tls: false },
      meta: { appName: "E2E", appURL: "http://e2e.test", senderName: "E2E", senderAddress: "noreply@e2e.test" },
    });
    await pb.collections.create({
      name: "otpusers",
      type: "auth",
      createRule: "",
      otp: {
        enabled: true,
        duration: 180,
        length: 6,
        emailTemplate: { subject: "Code for {APP_NAME}", body: "<p><strong>{OTP}</strong></p>" },
      },
    });
  });
  after(async () => {
    await server.stop();
    await sink.stop();
  });

  it("verifies an email with the token from the mail", async () => {
    const u = await newUser("e2e-verify@example.com");
    assert.equal(u.verified, false);
    assert.equal(await users().requestVerification("e2e-verify@example.com"), true);
    const mail = await sink.next("e2e-verify@example.com");
    assert.equal(mail.subject, "Verify your E2E email");
    const token = tokenAfter(mail, "http://e2e.test/_/#/auth/confirm-verification/");
    assert.equal(await users().confirmVerification(token), true);
    assert.equal((await pb.collection("users").getOne(u.id)).verified, true);
    // Unknown addresses get the same answer.
    assert.equal(await users().requestVerification("nobody@example.com"), true);
  });

  it("resets a password and signs the old session out", async () => {
    await newUser("e2e-reset@example.com", "old-pass-123");
    const session = server.client();
    await session.collection("users").authWithPassword("e2e-reset@example.com", "old-pass-123");
    await users().requestPasswordReset("e2e-reset@example.com");
    const mail = await sink.next("e2e-reset@example.com");
    const token = tokenAfter(mail, "/_/#/auth/confirm-password-reset/");
    const err = await rejectsWith(users().confirmPasswordReset(token, "new-pass-456", "mismatch"), 400);
    assert.equal(err.response.data.passwordConfirm.code, "validation_values_mismatch");
    assert.equal(await users().confirmPasswordReset(token, "new-pass-456", "new-pass-456"), true);
    await rejectsWith(session.collection("users").authRefresh(), 401);
    const fresh = server.client();
    await fresh.collection("users").authWithPassword("e2e-reset@example.com", "new-pass-456");
    assert.equal(fresh.authStore.isValid, true);
    await rejectsWith(users().confirmPasswordReset(token, "third-pass-789", "third-pass-789"), 400);
  });

  it("changes the email with the token sent to the new address", async () => {
    await newUser("e2e-old@example.com", "change-pass-1");
    const me = server.client();
    await me.collection("users").authWithPassword("e2e-old@example.com", "change-pass-1");
    assert.equal(await me.collection("users").requestEmailChange("e2e-new@example.com"), true);
    const mail = await sink.next("e2e-new@example.com");
    const token = tokenAfter(mail, "/_/#/auth/confirm-email-change/");
    await rejectsWith(me.collection("users").confirmEmailChange(token, "wrong"), 400);
    assert.equal(await me.collection("users").confirmEmailChange(token, "change-pass-1"), true);
    const again = server.client();
    const auth = await again.collection("users").authWithPassword("e2e-new@example.com", "change-pass-1");
    assert.equal(auth.record.email, "e2e-new@example.com");
    assert.equal(auth.record.verified, true);
  });

  it("signs in with a mailed one-time password", async () => {
    await pb.collection("otpusers").create({
      email: "e2e-otp@example.com",
      password: "otp-user-pass-1",
      passwordConfirm: "otp-user-pass-1",
    });
    const client = server.client();
    const { otpId } = await client.collection("otpusers").requestOTP("e2e-otp@example.com");
    assert.equal(typeof otpId, "string");
    const mail = await sink.next("e2e-otp@example.com");
    assert.equal(mail.subject, "Code for E2E");
    const code = mail.body.match(/<strong>(\d+)<\/strong>/)[1];
    assert.equal(code.length, 6);
    await rejectsWith(client.collection("otpusers").authWithOTP(otpId, code === "000000" ? "111111" : "000000"), 400);
    const auth = await client.collection("otpusers").authWithOTP(otpId, code);
    assert.equal(auth.record.email, "e2e-otp@example.com");
    assert.equal(auth.record.verified, true);
    assert.equal(client.authStore.isValid, true);
    await rejectsWith(client.collection("otpusers").authWithOTP(otpId, code), 400);
  });

  it("sends the settings test email", async () => {
    assert.equal(await pb.settings.testEmail("users", "e2e-test-mail@example.com", "password-reset"), true);
    const mail = await sink.next("e2e-test-mail@example.com");
    assert.equal(mail.subject, "Reset your E2E password");
    await rejectsWith(pb.settings.testEmail("users", "e2e-test-mail@example.com", "nope"), 400);
  });
});
