// Starts a real `plinth serve` on a free loopback port with a fresh data
// directory, and stops it. The binary is PLINTH_BIN or the release build.
import { spawn, execFileSync } from "node:child_process";
import { after, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventSource } from "eventsource";
import PocketBase from "pocketbase";

// The SDK's realtime service uses the global EventSource, as in a browser.
globalThis.EventSource ??= EventSource;

const here = path.dirname(fileURLToPath(import.meta.url));
export const PLINTH_BIN =
  process.env.PLINTH_BIN ?? path.resolve(here, "../../../build/release/bin/plinth");

// Rules that let anyone list, view, create, update and delete.
export const PUBLIC_RULES = { listRule: "", viewRule: "", createRule: "", updateRule: "", deleteRule: "" };

export const SUPERUSER = { email: "root@example.com", password: "root-password-123" };

export class Server {
  constructor(extraArgs = []) {
    this.extraArgs = extraArgs;
    this.output = "";
  }

  async start() {
    this.dir = mkdtempSync(path.join(tmpdir(), "plinth-e2e-"));
    execFileSync(PLINTH_BIN, ["superuser", "upsert", SUPERUSER.email, SUPERUSER.password, "--dir", this.dir], {
      stdio: "pipe",
    });
    this.proc = spawn(PLINTH_BIN, ["serve", "--http", "127.0.0.1:0", "--dir", this.dir, ...this.extraArgs], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal })));
    this.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("plinth did not start:\n" + this.output)), 15000);
      const onData = (chunk) => {
        this.output += chunk.toString();
        const m = this.output.match(/"msg":"server started","address":"(http:\/\/[^"]+)"/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      this.proc.stdout.on("data", onData);
      this.proc.stderr.on("data", onData);
      this.proc.on("exit", () => reject(new Error("plinth exited:\n" + this.output)));
    });
    return this;
  }

  // A client with no auth.
  client() {
    const pb = new PocketBase(this.url);
    pb.autoCancellation(false);
    return pb;
  }

  // A client authenticated as the superuser.
  async superuser() {
    const pb = this.client();
    await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    return pb;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      await this.exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

// A server for the enclosing `describe`: started before its tests, stopped after.
export function serverForSuite(extraArgs = []) {
  const server = new Server(extraArgs);
  before(() => server.start());
  after(() => server.stop());
  return server;
}

// Expects `promise` to reject with the SDK's ClientResponseError of `status`;
// returns the error for further checks.
export async function rejectsWith(promise, status) {
  try {
    await promise;
  } catch (err) {
    if (err?.name !== "ClientResponseError" && err?.constructor?.name !== "ClientResponseError") throw err;
    if (err.status !== status) {
      throw new Error(`expected status ${status}, got ${err.status}: ${JSON.stringify(err.response)}`);
    }
    return err;
  }
  throw new Error(`expected a ${status} error, the call succeeded`);
}
